using MLNetRetrieval.Tests.Cli;
using MLNetRetrieval.Tests.Images.Core;
using MLNetRetrieval.Tests.Images.Transforms;
using SkiaSharp;

namespace MLNetRetrieval.Tests.Images.Verify;

/// <summary>
/// The index help promises defaults for --image-size (224), --mean (0,0,0) and --std (1,1,1) with
/// --model-onnx. These tests run the CLI with those options left out.
/// </summary>
public sealed class CustomModelDefaultTests
{
    [Fact]
    public void MeanAndStdDefaultWhenOmitted()
    {
        string folder = CreateFolderWithTinyModel(out string model);

        CliResult result = CliHarness.Run("index", "--images", Path.Combine(folder, "images"), "--model-onnx", model,
            "--image-size", "8", "--output", Path.Combine(folder, "model.zip"));

        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public void OmittedImageSizeNamesShapes()
    {
        // The tiny model takes 8x8 images, so the default 224 does not fit: a usage error naming both shapes is expected.
        string folder = CreateFolderWithTinyModel(out string model);

        CliResult result = CliHarness.Run("index", "--images", Path.Combine(folder, "images"), "--model-onnx", model,
            "--mean", "0,0,0", "--std", "1,1,1", "--output", Path.Combine(folder, "model.zip"));

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "224");
    }

    private static string CreateFolderWithTinyModel(out string model)
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlnr-verify-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(folder, "images"));
        byte[] png = ImageTestFiles.EncodeRgba(8, 8, ImageTestFiles.PatternRgba(8, 8), SKEncodedImageFormat.Png);
        File.WriteAllBytes(Path.Combine(folder, "images", "pattern.png"), png);
        model = Path.Combine(folder, "tiny.onnx");
        File.WriteAllBytes(model, TinyModel.Bytes());
        return folder;
    }
}
