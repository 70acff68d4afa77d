using MLNetRetrieval.Images;
using MLNetRetrieval.Images.Preprocessing;
using MLNetRetrieval.Tests.Cli;
using MLNetRetrieval.Tests.Images.Core;
using MLNetRetrieval.Tests.Images.Transforms;
using SkiaSharp;

namespace MLNetRetrieval.Tests.Images.Verify;

/// <summary>
/// Error messages for models and image folders: a model with two inputs is rejected when the embedder is created,
/// and the CLI names its own options instead of the library's option properties.
/// </summary>
public sealed class ModelAndFolderMessageTests
{
    /// <summary>
    /// An ONNX model with inputs "image" float [batch, 3, 8, 8] and "scale" float [batch, 3] and output "embedding",
    /// the per-channel mean of the image times scale, exported with torch.onnx 1.13 (opset 13).
    /// </summary>
    private const string TwoInputModelBase64 =
        "CAcSB3B5dG9yY2gaBjEuMTMuMDrRAgpVCgVpbWFnZRIgL3Bvb2wvR2xvYmFsQXZlcmFnZVBvb2xfb3V0cHV0XzAaFy9wb29sL0dsb2JhbEF2ZXJhZ2VQb29sIhFHbG9iYWxBdmVyYWdlUG9vbApVCiAvcG9vbC9HbG9iYWxBdmVyYWdlUG9vbF9vdXRwdXRfMBIRL0ZsYXR0ZW5fb3V0cHV0XzAaCC9GbGF0dGVuIgdGbGF0dGVuKgsKBGF4aXMYAaABAgowChEvRmxhdHRlbl9vdXRwdXRfMAoFc2NhbGUSCWVtYmVkZGluZxoEL011bCIDTXVsEgl0b3JjaF9qaXRaJAoFaW1hZ2USGwoZCAESFQoHEgViYXRjaAoCCAMKAggICgIICFocCgVzY2FsZRITChEIARINCgcSBWJhdGNoCgIIA2IgCgllbWJlZGRpbmcSEwoRCAESDQoHEgViYXRjaAoCCANCAhAN";

    [Fact]
    public void TwoInputModelIsRejected()
    {
        var options = new ImageEmbedderOptions
        {
            ModelBytes = Convert.FromBase64String(TwoInputModelBase64),
            InputName = "image",
            Preprocessing = new ImagePreprocessing { Width = 8, Height = 8 },
            Threads = 1,
        };

        ArgumentException error = Assert.ThrowsAny<ArgumentException>(() => new ImageEmbedder(options));

        Assert.Contains("'image'", error.Message);
        Assert.Contains("'scale'", error.Message);
    }

    [Fact]
    public void ShapeMismatchNamesCliOptions()
    {
        string folder = CreateFolder(out string model);

        CliResult result = CliHarness.Run("index", "--images", Path.Combine(folder, "images"), "--model-onnx", model,
            "--image-size", "16", "--output", Path.Combine(folder, "model.zip"));

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "--image-size");
        Assert.DoesNotContain("ImageEmbedderOptions", result.Error);
    }

    [Fact]
    public void ImagesPathToFileIsNamed()
    {
        string folder = CreateFolder(out string _);
        string file = Path.Combine(folder, "images", "pattern.png");

        CliResult result = CliHarness.Run("index", "--images", file, "--output", Path.Combine(folder, "model.zip"));

        Assert.NotEqual(0, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "is a file, not a folder");
    }

    private static string CreateFolder(out string model)
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
