using System.Diagnostics;
using System.Text;

namespace MLNetRetrieval.Tests.Images.Transforms;

/// <summary>One row written by the LoadCheck image mode.</summary>
internal sealed record ScoredImage(float[] Embedding, string Failure, long[] NeighborIds, float[] Distances);

/// <summary>
/// Runs the LoadCheck program's image mode in a separate process, from a folder that links every file
/// of the test output except the ResNet18 package's DnnImageModels folder.
/// </summary>
internal static class ImageLoadCheck
{
    private const string Program = "MLNetRetrieval.LoadCheck.dll";
    private const string ModelFolder = "DnnImageModels";

    public static (ScoredImage[] Rows, string Output) Run(string zip, IReadOnlyList<string> paths, bool bytes, bool searches, string embeddingColumn = "Embedding")
    {
        string folder = Path.GetDirectoryName(zip)!;
        string application = LinkApplicationWithoutModels(Path.Combine(folder, "app"));
        string pathList = Path.Combine(folder, "paths.txt");
        string result = Path.Combine(folder, "scored.bin");
        File.WriteAllLines(pathList, paths);

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { Path.Combine(application, Program), "--images", zip, pathList, result, bytes ? "bytes" : "paths", embeddingColumn })
            start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Program} did not finish in 5 minutes.");
        }

        string output = stdout.Result + stderr.Result;
        Assert.True(process.ExitCode == 0, output);
        return (Read(result, searches), output);
    }

    private static string LinkApplicationWithoutModels(string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (string entry in Directory.EnumerateFileSystemEntries(AppContext.BaseDirectory))
        {
            string name = Path.GetFileName(entry);
            string target = Path.Combine(destination, name);
            if (name == ModelFolder)
                continue;

            // The host resolves a symbolic link to the program itself, which would make the test output
            // folder the application base again, so the program's own files are copied.
            if (name.StartsWith("MLNetRetrieval.LoadCheck.", StringComparison.Ordinal))
                File.Copy(entry, target);
            else if (Directory.Exists(entry))
                Directory.CreateSymbolicLink(target, entry);
            else
                File.CreateSymbolicLink(target, entry);
        }

        return destination;
    }

    private static ScoredImage[] Read(string path, bool searches)
    {
        var rows = new List<ScoredImage>();
        using var reader = new BinaryReader(File.OpenRead(path));
        while (reader.BaseStream.Position < reader.BaseStream.Length)
        {
            float[] embedding = ReadFloats(reader);
            string failure = Encoding.UTF8.GetString(reader.ReadBytes(reader.ReadInt32()));
            long[] ids = [];
            float[] distances = [];
            if (searches)
            {
                ids = new long[reader.ReadInt32()];
                for (int i = 0; i < ids.Length; i++)
                    ids[i] = reader.ReadInt64();
                distances = ReadFloats(reader);
            }

            rows.Add(new ScoredImage(embedding, failure, ids, distances));
        }

        return rows.ToArray();
    }

    private static float[] ReadFloats(BinaryReader reader)
    {
        var values = new float[reader.ReadInt32()];
        for (int i = 0; i < values.Length; i++)
            values[i] = reader.ReadSingle();
        return values;
    }
}
