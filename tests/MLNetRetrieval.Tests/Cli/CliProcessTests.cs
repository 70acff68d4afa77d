using MLNetRetrieval.IO;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>The built tool as a separate process: exit codes, standard streams and files.</summary>
public sealed class CliProcessTests
{
    [Fact]
    public void ProcessFlowMatchesInProcess()
    {
        string folder = CliHarness.TempDirectory();
        VectorSet collection = CliHarness.IntegerVectors(40, 6, seed: 81);
        string csv = Path.Combine(folder, "items.csv");
        VectorFile.WriteCsv(csv, collection);
        string model = Path.Combine(folder, "model.zip");
        string processResults = Path.Combine(folder, "process.csv");
        string inProcessResults = Path.Combine(folder, "in-process.csv");
        string[] columns = ["--id-column", "id", "--label-column", "label"];

        CliResult index = CliHarness.RunProcess(["index", "--input", csv, .. columns, "--k", "8", "--exclude-self", "--output", model]);
        CliResult search = CliHarness.RunProcess(["search", "--model", model, "--queries", csv, .. columns, "--output", processResults]);
        CliResult evaluate = CliHarness.RunProcess(["evaluate", "--model", model, "--queries", csv, .. columns, "--json"]);
        CliResult unknown = CliHarness.RunProcess("index", "--bogus");
        CliResult inProcessSearch = CliHarness.Run(["search", "--model", model, "--queries", csv, .. columns, "--output", inProcessResults]);
        CliResult inProcessEvaluate = CliHarness.Run(["evaluate", "--model", model, "--queries", csv, .. columns, "--json"]);

        CliHarness.AssertSuccess(index);
        CliHarness.AssertSuccess(search);
        CliHarness.AssertSuccess(evaluate);
        CliHarness.AssertSuccess(inProcessSearch);
        Assert.Equal(File.ReadAllText(inProcessResults), File.ReadAllText(processResults));
        Assert.Equal(inProcessEvaluate.Output, evaluate.Output);
        Assert.Equal(2, unknown.ExitCode);
        CliHarness.AssertOneErrorLine(unknown, "--bogus");
        Assert.Empty(unknown.Output);
    }
}
