using System.Diagnostics;
using System.Globalization;
using MLNetRetrieval.IO;

namespace MLNetRetrieval.Tests.Cli;

internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>One neighbor row of the search command's CSV output.</summary>
internal sealed record NeighborRow(long QueryId, int Rank, long NeighborId, float Distance, string Label);

/// <summary>Runs the CLI in-process or as a separate process, and builds small seeded input files.</summary>
internal static class CliHarness
{
    public static CliResult Run(params string[] args) => Run(CancellationToken.None, args);

    public static CliResult Run(CancellationToken cancellationToken, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exitCode = MLNetRetrieval.Cli.Program.Run(args, stdout, stderr, cancellationToken);
        return new CliResult(exitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs <c>dotnet mlnet-retrieval.dll</c> from the test output folder.</summary>
    public static CliResult RunProcess(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mlnet-retrieval.dll"));
        foreach (string argument in args)
            start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("mlnet-retrieval did not finish in 2 minutes.");
        }

        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    public static string TempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "mlnr-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// Seeded vectors with small integer components, so float32 squared-L2 distances are exact and
    /// ties occur; ids 1000 + 7i and labels "a", "b" or "c".
    /// </summary>
    public static VectorSet IntegerVectors(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var values = new float[count * dimension];
        for (int i = 0; i < values.Length; i++)
            values[i] = random.Next(5);
        var ids = new long[count];
        var labels = new string[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = 1000 + 7 * i;
            labels[i] = ((char)('a' + random.Next(3))).ToString();
        }

        return new VectorSet(values, count, dimension, ids, labels, "seeded");
    }

    /// <summary>Seeded Gaussian vectors with ids 0..count-1 and no labels; distances have no ties.</summary>
    public static VectorSet GaussianVectors(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var values = new float[count * dimension];
        for (int i = 0; i < values.Length; i++)
            values[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return new VectorSet(values, count, dimension, source: "gaussian");
    }

    /// <summary>Writes ids and labels as companion text files, one value per line.</summary>
    public static (string IdsPath, string LabelsPath) WriteCompanions(string folder, VectorSet vectors)
    {
        string ids = Path.Combine(folder, "ids.txt");
        string labels = Path.Combine(folder, "labels.txt");
        File.WriteAllLines(ids, vectors.Ids!.Select(id => id.ToString(CultureInfo.InvariantCulture)));
        File.WriteAllLines(labels, vectors.Labels!);
        return (ids, labels);
    }

    public static List<NeighborRow> ReadResults(string path) => ParseResults(File.ReadAllText(path));

    public static List<NeighborRow> ParseResults(string csv)
    {
        string[] lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(MLNetRetrieval.Cli.SearchCommand.CsvHeader, lines[0]);
        return lines.Skip(1).Select(line =>
        {
            string[] f = line.Split(',');
            return new NeighborRow(long.Parse(f[0], CultureInfo.InvariantCulture), int.Parse(f[1], CultureInfo.InvariantCulture),
                long.Parse(f[2], CultureInfo.InvariantCulture), float.Parse(f[3], CultureInfo.InvariantCulture), f[4]);
        }).ToList();
    }

    /// <summary>Asserts exit code 0 and shows standard error otherwise.</summary>
    public static void AssertSuccess(CliResult result) =>
        Assert.True(result.ExitCode == 0, $"exit code {result.ExitCode}: {result.Error}");

    /// <summary>Asserts that standard error is exactly one "error: ..." line that contains <paramref name="mention"/>.</summary>
    public static void AssertOneErrorLine(CliResult result, string mention)
    {
        string[] lines = result.ErrorLines;
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(mention, lines[0], StringComparison.Ordinal);
    }
}
