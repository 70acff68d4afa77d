using MLNetRetrieval.Tests.Cli;
using MLNetRetrieval.Tests.Images.Core;
using MLNetRetrieval.Tests.Images.Transforms;
using SkiaSharp;

namespace MLNetRetrieval.Tests.Images.Verify;

/// <summary>
/// A cancelled <c>index --images</c> run exits with 130 and leaves the outputs of an earlier run as they were,
/// including its failures CSV.
/// </summary>
public sealed class IndexCancelTests
{
    private const string OlderFailures = "path,reason\nolder.png,from an earlier run\n";

    [Fact]
    public void CancelledIndexKeepsOlderOutputs()
    {
        string folder = CreateFolder(out string model);
        string zip = Path.Combine(folder, "model.zip");
        string failures = Path.Combine(folder, "model.failures.csv");
        File.WriteAllText(failures, OlderFailures);
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        CliResult result = CliHarness.Run(cancellation.Token, IndexArguments(folder, model, zip));

        Assert.Equal(130, result.ExitCode);
        Assert.False(File.Exists(zip));
        Assert.Equal(OlderFailures, File.ReadAllText(failures));
        Assert.Empty(Directory.GetFiles(folder, "*.partial"));
    }

    private static string[] IndexArguments(string folder, string model, string zip) =>
        ["index", "--images", Path.Combine(folder, "images"), "--model-onnx", model, "--image-size", "8", "--output", zip];

    private static string CreateFolder(out string model)
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlnr-verify-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(folder, "images"));
        byte[] png = ImageTestFiles.EncodeRgba(8, 8, ImageTestFiles.PatternRgba(8, 8), SKEncodedImageFormat.Png);
        File.WriteAllBytes(Path.Combine(folder, "images", "pattern.png"), png);
        File.WriteAllBytes(Path.Combine(folder, "images", "broken.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        model = Path.Combine(folder, "tiny.onnx");
        File.WriteAllBytes(model, TinyModel.Bytes());
        return folder;
    }
}
