// USearch peer for the HNSW benchmark: builds a USearch index (NuGet Cloud.Unum.USearch 2.26.6,
// f32 vectors, squared L2) over Fashion-MNIST's training split on one thread, then for each
// expansion_search value measures recall@10 against exact ground truth and queries per second one
// query at a time. Writes one JSON document with the fields of benchmarks/peers/hnswlib_peer.cpp.
//
// The 2.26.6 C# binding fixes expansion_search at construction. Rather than rebuild the graph per
// value, this peer reads the binding's native handle (private field `_index`) by reflection and calls
// the native library's exported usearch_change_expansion_search. That depends on the binding's
// internals, so it is pinned to this one package version.
//
// Usage: dotnet run -c Release -- [--ground-truth FILE.ivecs] [--out FILE] [--ef 16,32,...] [--repeat N]
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using Cloud.Unum.USearch;

string dataDir = "/usr/share/datasets/fashion-mnist", groundTruth = "", outPath = "", indexPath = "/tmp/usearch-peer-index.bin";
int[] efValues = [16, 32, 64, 128, 256];
int connectivity = 16, expansionAdd = 200, repeat = 1;
for (int i = 0; i < args.Length; i += 2)
{
    if (i + 1 >= args.Length) return Fail($"{args[i]} needs a value.");
    string value = args[i + 1];
    switch (args[i])
    {
        case "--data-dir": dataDir = value; break;
        case "--ground-truth": groundTruth = value; break;
        case "--out": outPath = value; break;
        case "--index-path": indexPath = value; break;
        case "--ef": efValues = value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray(); break;
        case "--connectivity": connectivity = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--ef-construction": expansionAdd = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--repeat": repeat = int.Parse(value, CultureInfo.InvariantCulture); break;
        default: return Fail($"Unknown option '{args[i]}'; valid: --data-dir, --ground-truth, --out, --index-path, --ef, --connectivity, --ef-construction, --repeat.");
    }
}

string loadStart = File.ReadAllLines("/proc/loadavg")[0];
string dateStart = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
const int k = 10;
float[][] baseSet = ReadImages(Path.Combine(dataDir, "train-images-idx3-ubyte.gz"));
float[][] queries = ReadImages(Path.Combine(dataDir, "t10k-images-idx3-ubyte.gz"));
int dimension = baseSet[0].Length;
int[][] truth = groundTruth.Length > 0 ? ReadIvecs(groundTruth, queries.Length) : ExactNeighbors(baseSet, queries);

using var index = new USearchIndex(MetricKind.L2sq, ScalarKind.Float32, (ulong)dimension,
    (ulong)connectivity, (ulong)expansionAdd, (ulong)efValues[0], false);
IntPtr handle = (IntPtr)(typeof(USearchIndex).GetField("_index", BindingFlags.Instance | BindingFlags.NonPublic)
    ?.GetValue(index) ?? throw new InvalidOperationException("USearchIndex has no private field _index; this peer needs Cloud.Unum.USearch 2.26.6."));
Native.Reserve(handle, baseSet.Length);
Native.SetThreads(handle);

var clock = Stopwatch.StartNew();
for (int i = 0; i < baseSet.Length; i++) index.Add((ulong)i, baseSet[i]);
double buildSeconds = clock.Elapsed.TotalSeconds;
Console.Error.WriteLine($"[usearch_peer] built {index.Size()} vectors in {buildSeconds:F2} s; {index.HardwareAcceleration()}");

index.Save(indexPath);
long indexBytes = new FileInfo(indexPath).Length;
File.Delete(indexPath);

var rows = new List<Dictionary<string, object>>();
var found = new ulong[queries.Length][];
foreach (int ef in efValues)
{
    Native.SetExpansionSearch(handle, ef);
    for (int q = 0; q < Math.Min(16, queries.Length); q++) index.Search(queries[q], k, out _, out _);
    double best = double.MaxValue;
    for (int pass = 0; pass < repeat; pass++)
    {
        clock.Restart();
        for (int q = 0; q < queries.Length; q++)
        {
            index.Search(queries[q], k, out ulong[] keys, out _);
            found[q] = keys;
        }
        best = Math.Min(best, clock.Elapsed.TotalSeconds);
    }
    long hits = 0;
    for (int q = 0; q < queries.Length; q++)
    {
        var expected = new HashSet<int>(truth[q]);
        hits += found[q].Take(k).Count(id => expected.Contains((int)id));
    }
    double recall = (double)hits / (queries.Length * k);
    rows.Add(new()
    {
        ["family"] = "hnsw", ["index"] = $"USearch{connectivity}",
        ["params"] = new Dictionary<string, int> { ["ef"] = ef, ["M"] = connectivity, ["efConstruction"] = expansionAdd },
        ["recall_at_10"] = recall, ["single_qps"] = queries.Length / best, ["single_queries"] = queries.Length,
        ["build_s"] = buildSeconds, ["index_bytes"] = indexBytes,
    });
    Console.Error.WriteLine($"[usearch_peer] ef {ef,4}: recall@10 {recall:F4}  single {queries.Length / best,8:F0} QPS");
}

string cpuInfo = File.ReadAllText("/proc/cpuinfo");
string flags = " " + (cpuInfo.Split('\n').FirstOrDefault(line => line.StartsWith("flags", StringComparison.Ordinal)) ?? "") + " ";
var document = new Dictionary<string, object>
{
    ["peer"] = "usearch",
    ["machine"] = new Dictionary<string, object>
    {
        ["cpu_model"] = cpuInfo.Split('\n').FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown",
        ["cpu_avx2"] = flags.Contains(" avx2 "), ["cpu_avx512f"] = flags.Contains(" avx512f "),
        ["hnswlib_version"] = $"Cloud.Unum.USearch 2.26.6 ({index.HardwareAcceleration()})",
        ["compiler"] = $".NET {Environment.Version}",
        ["loadavg_start"] = loadStart, ["loadavg_end"] = File.ReadAllLines("/proc/loadavg")[0], ["date_utc"] = dateStart,
    },
    ["base_count"] = baseSet.Length, ["query_count"] = queries.Length, ["dimension"] = dimension, ["k"] = k,
    ["threads"] = 1, ["repeat"] = repeat, ["peak_rss_kib"] = Process.GetCurrentProcess().PeakWorkingSet64 / 1024, ["rows"] = rows,
};
string json = JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }) + "\n";
if (outPath.Length > 0) File.WriteAllText(outPath, json); else Console.Write(json);
return 0;

static int Fail(string message)
{
    Console.Error.WriteLine($"usearch_peer: error: {message}");
    return 2;
}

static float[][] ReadImages(string path)
{
    using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    byte[] bytes = memory.ToArray();
    int BigEndian(int offset) => (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
    if (bytes.Length < 16 || BigEndian(0) != 0x803) throw new InvalidDataException($"{path}: not an IDX3 uint8 file (magic at offset 0 is not 0x00000803).");
    int count = BigEndian(4), dimension = BigEndian(8) * BigEndian(12);
    var rows = new float[count][];
    for (int i = 0; i < count; i++)
    {
        rows[i] = new float[dimension];
        for (int j = 0; j < dimension; j++) rows[i][j] = bytes[16 + i * dimension + j];
    }
    return rows;
}

static int[][] ReadIvecs(string path, int count)
{
    using var reader = new BinaryReader(File.OpenRead(path));
    var rows = new int[count][];
    for (int i = 0; i < count; i++)
    {
        int width = reader.ReadInt32();
        if (width < k) throw new InvalidDataException($"{path}: row {i} has {width} ids, expected at least {k}.");
        int[] line = Enumerable.Range(0, width).Select(_ => reader.ReadInt32()).ToArray();
        rows[i] = line[..k];
    }
    return rows;
}

static int[][] ExactNeighbors(float[][] baseSet, float[][] queries)
{
    var rows = new int[queries.Length][];
    Parallel.For(0, queries.Length, q =>
    {
        var distances = new double[baseSet.Length];
        for (int i = 0; i < baseSet.Length; i++)
        {
            double sum = 0;
            for (int j = 0; j < queries[q].Length; j++) { double t = queries[q][j] - baseSet[i][j]; sum += t * t; }
            distances[i] = sum;
        }
        rows[q] = Enumerable.Range(0, baseSet.Length).OrderBy(i => distances[i]).ThenBy(i => i).Take(k).ToArray();
    });
    return rows;
}

static class Native
{
    private const string Library = "libusearch_c";

    [DllImport(Library)] private static extern void usearch_change_expansion_search(IntPtr index, UIntPtr expansion, out IntPtr error);
    [DllImport(Library)] private static extern void usearch_change_threads_add(IntPtr index, UIntPtr threads, out IntPtr error);
    [DllImport(Library)] private static extern void usearch_change_threads_search(IntPtr index, UIntPtr threads, out IntPtr error);
    [DllImport(Library)] private static extern void usearch_reserve(IntPtr index, UIntPtr capacity, out IntPtr error);

    // Reserves room for every base vector up front, so the timed build does not include regrowth.
    public static void Reserve(IntPtr index, int capacity)
    {
        usearch_reserve(index, (UIntPtr)capacity, out IntPtr error);
        ThrowIf(error, "usearch_reserve");
    }

    public static void SetExpansionSearch(IntPtr index, int expansion)
    {
        usearch_change_expansion_search(index, (UIntPtr)expansion, out IntPtr error);
        ThrowIf(error, "usearch_change_expansion_search");
    }

    // One thread slot for adding and one for searching, so the native library keeps to the calling thread.
    public static void SetThreads(IntPtr index)
    {
        usearch_change_threads_add(index, 1, out IntPtr error);
        ThrowIf(error, "usearch_change_threads_add");
        usearch_change_threads_search(index, 1, out error);
        ThrowIf(error, "usearch_change_threads_search");
    }

    private static void ThrowIf(IntPtr error, string function)
    {
        if (error != IntPtr.Zero) throw new InvalidOperationException($"{function} failed: {Marshal.PtrToStringAnsi(error)}");
    }
}
