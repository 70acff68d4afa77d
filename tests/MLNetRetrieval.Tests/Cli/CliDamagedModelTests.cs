using System.Globalization;
using System.IO.Compression;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>
/// Damaged model zips: every load error names the model file and shows the cause, not ML.NET's
/// generic wrapper messages.
/// </summary>
public sealed class CliDamagedModelTests
{
    private const string IndexEntrySuffix = "Transform_002/DefaultMap.idv";

    private static readonly string[] WrapperTexts =
    [
        "target of an invocation",
        "Error during class instantiation",
        "Splitter/consolidator",
    ];

    [Fact]
    public void TruncatedIndexEntryNamesFile()
    {
        string folder = CliHarness.TempDirectory();
        string model = BuildModel(folder, variant: 1);
        RewriteIndexEntry(model, bytes => bytes[..(bytes.Length / 2)]);

        CliResult result = Search(folder, model);

        AssertCauseShown(result, model);
    }

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.3)]
    [InlineData(0.6)]
    [InlineData(0.9999)]
    public void FlippedIndexByteNamesFile(double position)
    {
        string folder = CliHarness.TempDirectory();
        string model = BuildModel(folder, variant: 2 + (int)(position * 10_000));
        RewriteIndexEntry(model, bytes =>
        {
            int offset = Math.Min(bytes.Length - 1, (int)(bytes.Length * position));
            bytes[offset] ^= 0x5A;
            return bytes;
        });

        CliResult result = Search(folder, model);

        AssertCauseShown(result, model);
    }

    private static void AssertCauseShown(CliResult result, string model)
    {
        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, model);
        foreach (string wrapper in WrapperTexts)
            Assert.DoesNotContain(wrapper, result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Output);
    }

    private static CliResult Search(string folder, string model) =>
        CliHarness.Run("search", "--model", model, "--queries", Path.Combine(folder, "vectors.csv"), "-o", "-");

    /// <summary>
    /// Indexes 40 small vectors whose first component is <paramref name="variant"/>. The library shares
    /// decoded index states within a process through weak references keyed by the payload header, so a
    /// damaged copy of a model fitted or loaded earlier in this process could load from that cache
    /// without decoding. A variant per test and a full garbage collection after fitting keep every
    /// damaged copy out of the cache.
    /// </summary>
    private static string BuildModel(string folder, int variant)
    {
        string csv = Path.Combine(folder, "vectors.csv");
        File.WriteAllLines(csv, Enumerable.Range(0, 40).Select(i => string.Join(',', variant.ToString(CultureInfo.InvariantCulture),
            (i % 7).ToString(CultureInfo.InvariantCulture), (i % 5).ToString(CultureInfo.InvariantCulture), (i % 3).ToString(CultureInfo.InvariantCulture))));
        string model = Path.Combine(folder, "model.zip");
        CliHarness.AssertSuccess(CliHarness.Run("index", "--input", csv, "--k", "4", "--output", model));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return model;
    }

    /// <summary>Replaces the uncompressed bytes of the entry that stores the index state.</summary>
    private static void RewriteIndexEntry(string model, Func<byte[], byte[]> damage)
    {
        using ZipArchive zip = ZipFile.Open(model, ZipArchiveMode.Update);
        ZipArchiveEntry entry = zip.Entries.Single(e => e.FullName.EndsWith(IndexEntrySuffix, StringComparison.Ordinal));
        byte[] bytes;
        using (Stream input = entry.Open())
        using (var copy = new MemoryStream())
        {
            input.CopyTo(copy);
            bytes = copy.ToArray();
        }

        string name = entry.FullName;
        entry.Delete();
        using Stream output = zip.CreateEntry(name).Open();
        output.Write(damage(bytes));
    }
}
