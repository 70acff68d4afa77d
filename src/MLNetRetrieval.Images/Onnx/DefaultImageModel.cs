using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;
using MLNetRetrieval.Images.Preprocessing;

namespace MLNetRetrieval.Images.Onnx;

/// <summary>
/// Locates the default model, ResNet18 from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 (input
/// <c>Input247</c> [1, 3, 224, 224], output <c>Pooling395_Output_0</c> [1, 512, 1, 1]), and builds the preprocessing
/// that ML.NET's <c>DnnFeaturizeImage</c> applies before it.
/// </summary>
/// <remarks>
/// The package copies <c>DnnImageModels/ResNet18Onnx/ResNet18.onnx</c> and
/// <c>DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx</c> next to the application. The second model splits the
/// R, G, B planes that ML.NET's <c>ExtractPixels</c> produces (values 0..255, planar), concatenates them as B, G, R
/// and subtracts a per-pixel 3 x 224 x 224 mean image. Running it once on an all-zero input yields that mean image
/// negated, which <see cref="LoadResNet18Preprocessing"/> keeps as <see cref="ImagePreprocessing.MeanImage"/>.
/// </remarks>
public static class DefaultImageModel
{
    /// <summary>The NuGet package that ships the default model.</summary>
    public const string PackageName = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    private static readonly ConcurrentDictionary<string, Lazy<float[]>> MeanImages = new(StringComparer.Ordinal);

    /// <summary>Returns the path of ResNet18.onnx under <paramref name="baseDirectory"/>.</summary>
    /// <param name="baseDirectory">Folder that contains DnnImageModels; null for <see cref="AppContext.BaseDirectory"/>.</param>
    public static string ModelPath(string? baseDirectory = null) =>
        Path.Combine(baseDirectory ?? AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>Returns the path of ResNetPreprocess.onnx under <paramref name="baseDirectory"/>.</summary>
    /// <param name="baseDirectory">Folder that contains DnnImageModels; null for <see cref="AppContext.BaseDirectory"/>.</param>
    public static string PreprocessModelPath(string? baseDirectory = null) =>
        Path.Combine(baseDirectory ?? AppContext.BaseDirectory, "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    /// <summary>Reads the default model's bytes.</summary>
    /// <param name="baseDirectory">Folder that contains DnnImageModels; null for <see cref="AppContext.BaseDirectory"/>.</param>
    /// <exception cref="FileNotFoundException">The model file is missing; the message names the path and the package.</exception>
    public static byte[] ReadModelBytes(string? baseDirectory = null) => File.ReadAllBytes(RequireFile(ModelPath(baseDirectory)));

    /// <summary>
    /// Builds the preprocessing of ML.NET's ResNet18 featurizer: 224 x 224 centre crop as <c>ResizeImages</c> does it,
    /// B, G, R planes (NCHW), pixel values 0..255 minus the mean image of ResNetPreprocess.onnx.
    /// </summary>
    /// <param name="baseDirectory">Folder that contains DnnImageModels; null for <see cref="AppContext.BaseDirectory"/>.</param>
    /// <exception cref="FileNotFoundException">ResNetPreprocess.onnx is missing; the message names the path and the package.</exception>
    public static ImagePreprocessing LoadResNet18Preprocessing(string? baseDirectory = null)
    {
        string path = Path.GetFullPath(PreprocessModelPath(baseDirectory));
        float[] meanImage = MeanImages.GetOrAdd(path, p => new Lazy<float[]>(() => ComputeMeanImage(p))).Value;
        return new ImagePreprocessing
        {
            Width = 224,
            Height = 224,
            ResizeMode = ImageResizeMode.ShorterSideThenCenterCrop,
            ChannelOrder = ChannelOrder.Bgr,
            Layout = TensorLayout.Nchw,
            Scale = 1f,
            MeanImage = (float[])meanImage.Clone(),
        };
    }

    private static float[] ComputeMeanImage(string path)
    {
        byte[] model = File.ReadAllBytes(RequireFile(path));
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        string inputName = session.InputMetadata.Keys.Single();
        string outputName = session.OutputMetadata.Keys.First();
        long[] shape = [1, 3, 224, 224];
        using var input = OrtValue.CreateTensorValueFromMemory(new float[3 * 224 * 224], shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [inputName], [input], [outputName]);
        ReadOnlySpan<float> negatedMean = outputs[0].GetTensorDataAsSpan<float>();
        if (negatedMean.Length != 3 * 224 * 224)
        {
            throw new InvalidDataException(
                $"'{path}' returned {negatedMean.Length} values for a 1x3x224x224 input; expected {3 * 224 * 224}. Reinstall {PackageName}.");
        }

        var mean = new float[negatedMean.Length];
        for (int i = 0; i < mean.Length; i++)
        {
            mean[i] = -negatedMean[i];
        }

        return mean;
    }

    private static string RequireFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The default image model file '{path}' was not found. Add the NuGet package {PackageName} to the application " +
                "(it copies DnnImageModels/ next to it), or set ImageEmbedderOptions.ModelPath or ModelBytes and Preprocessing.", path);
        }

        return path;
    }
}
