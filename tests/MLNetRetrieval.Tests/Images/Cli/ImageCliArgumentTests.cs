using MLNetRetrieval.Tests.Cli;

namespace MLNetRetrieval.Tests.Images.Cli;

/// <summary>
/// Invalid image command lines: exit code 2 for usage errors and 1 for data errors, with one
/// "error:" line naming the option or file. All of these fail before any image is embedded.
/// </summary>
public sealed class ImageCliArgumentTests
{
    [Fact]
    public void IndexWithoutInputOrImages()
    {
        CliResult result = CliHarness.Run("index", "--output", "model.zip");

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "--images DIR");
    }

    [Fact]
    public void IndexWithInputAndImages()
    {
        CliResult result = CliHarness.Run("index", "--input", "base.csv", "--images", "photos", "--output", "model.zip");

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "pass only one");
    }

    [Fact]
    public void IndexImagesWithVectorLabels()
    {
        CliResult result = CliHarness.Run("index", "--images", "photos", "--labels", "labels.txt", "--output", "model.zip");

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "--labels");
    }

    [Theory]
    [InlineData("--extensions", "png")]
    [InlineData("--failures", "failures.csv")]
    [InlineData("--labels-from-folders", null)]
    [InlineData("--model-onnx", "model.onnx")]
    [InlineData("--flip-average", null)]
    public void ImageOptionWithoutImages(string option, string? value)
    {
        string[] args = value is null
            ? ["index", "--input", "base.csv", "--output", "model.zip", option]
            : ["index", "--input", "base.csv", "--output", "model.zip", option, value];

        CliResult result = CliHarness.Run(args);

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, option);
    }

    [Theory]
    [InlineData("--mean", "0.5,0.5,0.5")]
    [InlineData("--input-name", "data")]
    [InlineData("--image-size", "320x240")]
    [InlineData("--resize", "stretch")]
    public void PreprocessingWithoutCustomModel(string option, string value)
    {
        string folder = ImageFolderTests.CreateTree("a/x.png");

        CliResult result = CliHarness.Run("index", "--images", folder, "--output", Path.Combine(folder, "model.zip"), option, value);

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, option);
    }

    [Theory]
    [InlineData("--image-size", "0")]
    [InlineData("--image-size", "224x")]
    [InlineData("--mean", "0.5,0.5")]
    [InlineData("--std", "1,0,1")]
    [InlineData("--scale", "NaN")]
    [InlineData("--batch-size", "0")]
    [InlineData("--extensions", "*.png")]
    public void InvalidImageOptionValue(string option, string value)
    {
        CliResult result = CliHarness.Run("index", "--images", "photos", "--output", "model.zip", option, value);

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, option);
    }

    [Fact]
    public void MissingImageFolderIsDataError()
    {
        string folder = CliHarness.TempDirectory();
        string missing = Path.Combine(folder, "missing");

        CliResult result = CliHarness.Run("index", "--images", missing, "--output", Path.Combine(folder, "model.zip"));

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, missing);
    }

    [Fact]
    public void MissingOnnxModelIsDataError()
    {
        string folder = ImageFolderTests.CreateTree("a/x.png");
        string missing = Path.Combine(folder, "missing.onnx");

        CliResult result = CliHarness.Run("index", "--images", folder, "--model-onnx", missing, "--output", Path.Combine(folder, "model.zip"));

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, missing);
    }

    [Fact]
    public void SearchWithImagesAndImage()
    {
        CliResult result = CliHarness.Run("search", "--model", "model.zip", "--images", "photos", "--image", "a.png", "--output", "r.csv");

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "--image");
    }

    [Fact]
    public void SearchWithQueriesAndImages()
    {
        CliResult result = CliHarness.Run("search", "--model", "model.zip", "--queries", "q.csv", "--images", "photos", "--output", "r.csv");

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "pass only one");
    }

    [Fact]
    public void SearchSingleImageWithExtensions()
    {
        CliResult result = CliHarness.Run("search", "--model", "model.zip", "--image", "a.png", "--extensions", "png", "--output", "r.csv");

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "--extensions");
    }

    [Fact]
    public void SearchImagesWithTransformScoring()
    {
        CliResult result = CliHarness.Run("search", "--model", "model.zip", "--images", "photos", "--scoring", "transform", "--output", "r.csv");

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "--scoring");
    }

    [Fact]
    public void SearchImagesWithVectorModel()
    {
        string zip = ImageManifestTests.WriteVectorModel(out _);
        string folder = ImageFolderTests.CreateTree("a.png");

        CliResult result = CliHarness.Run("search", "--model", zip, "--images", folder, "--output", Path.Combine(folder, "r.csv"));

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "index --images");
    }

    [Theory]
    [InlineData("--limit", "10")]
    [InlineData("--scoring", "batch")]
    public void DemoImagesRejectsVectorOptions(string option, string value)
    {
        CliResult result = CliHarness.Run("demo", "--images", option, value);

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, option);
    }
}
