using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNetRetrieval.Images.Gpu.Tests;

/// <summary>
/// The CUDA option on a machine without a usable GPU: the session must stay on the CPU, still run,
/// and log one warning. On a machine with CUDA the fallback tests are skipped by their own check.
/// </summary>
public sealed class CudaFallbackTests
{
    [Fact]
    public void GpuNativeLibraryIsDeployed()
    {
        string[] providers = OrtEnv.Instance().GetAvailableProviders();

        Assert.Contains(CudaExecution.ProviderName, providers);
    }

    [Fact]
    public void CpuOnlyLibraryIsNotDeployed()
    {
        string native = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");

        Assert.True(File.Exists(Path.Combine(native, "libonnxruntime_providers_cuda.so")), "the GPU build's CUDA provider must be deployed");
        Assert.Equal(GpuPackageLibrarySize(), new FileInfo(Path.Combine(native, "libonnxruntime.so")).Length);
    }

    [Fact]
    public void MissingCudaFallsBackWithWarning()
    {
        if (CudaExecution.FindFallbackReason(0) is null)
            return; // A usable GPU: there is no fallback to check.
        var context = new MLContext(seed: 1);
        var warnings = new List<string>();
        context.Log += (_, e) =>
        {
            if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning)
                warnings.Add(e.Message);
        };
        ImageEmbedderOptions options = new ImageEmbedderOptions().UseCuda(deviceId: 0, context: context);

        using var session = new SessionOptions();
        options.ConfigureSession!(session);
        float[] output = RunTinyModel(session);

        string warning = Assert.Single(warnings);
        Assert.Contains("runs on the CPU", warning);
        Assert.Equal(TinyModel.Dimension, output.Length);
        Assert.All(output, value => Assert.True(float.IsFinite(value)));
    }

    [Fact]
    public void FallbackMatchesPlainCpuSession()
    {
        if (CudaExecution.FindFallbackReason(0) is null)
            return; // A usable GPU: results may differ from the CPU in the last bits.
        using var plain = new SessionOptions();
        using var fallback = new SessionOptions();
        bool appended = CudaExecution.TryAppendCuda(fallback, deviceId: 0, warn: null);

        float[] expected = RunTinyModel(plain);
        float[] actual = RunTinyModel(fallback);

        Assert.False(appended);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void EmbedderFallsBackToCpu()
    {
        if (CudaExecution.FindFallbackReason(0) is null)
            return; // A usable GPU: there is no fallback to check.
        var context = new MLContext(seed: 1);
        int warnings = 0;
        context.Log += (_, e) =>
        {
            if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning)
                warnings++;
        };
        var options = new ImageEmbedderOptions
        {
            ModelBytes = TinyModel.Bytes(),
            Preprocessing = new Preprocessing.ImagePreprocessing { Width = 8, Height = 8, ResizeMode = Preprocessing.ImageResizeMode.Stretch },
        }.UseCuda(deviceId: 0, context: context);

        using var embedder = new ImageEmbedder(options);
        var embedding = new float[embedder.Dimension];
        embedder.Embed(new Decoding.DecodedImage(2, 2, [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]), embedding);

        Assert.Equal(1, warnings);
        Assert.Equal(TinyModel.Dimension, embedding.Length);
        Assert.All(embedding, value => Assert.True(float.IsFinite(value)));
    }

    [Fact]
    public void EarlierHookStillRuns()
    {
        int calls = 0;
        var options = new ImageEmbedderOptions { ConfigureSession = _ => calls++ };

        options.UseCuda(deviceId: 0);
        using var session = new SessionOptions();
        options.ConfigureSession!(session);

        Assert.Equal(1, calls);
    }

    [Fact]
    public void NegativeDeviceIsRejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ImageEmbedderOptions().UseCuda(deviceId: -1));

        Assert.Equal("deviceId", error.ParamName);
    }

    [Fact]
    public void OutOfRangeDeviceFallsBack()
    {
        string? reason = CudaExecution.FindFallbackReason(deviceId: 1000);

        Assert.NotNull(reason);
    }

    private static float[] RunTinyModel(SessionOptions session)
    {
        using var inference = new InferenceSession(TinyModel.Bytes(), session);
        var input = new DenseTensor<float>(new[] { 1, 3, 8, 8 });
        for (int i = 0; i < input.Length; i++)
            input.SetValue(i, (i % 17) / 17f);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results =
            inference.Run(new[] { NamedOnnxValue.CreateFromTensor(TinyModel.InputName, input) });
        return results.Single().AsEnumerable<float>().ToArray();
    }

    /// <summary>Size of the GPU package's libonnxruntime.so, read from the NuGet cache the build used.</summary>
    private static long GpuPackageLibrarySize()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string library = Path.Combine(packages, "microsoft.ml.onnxruntime.gpu.linux", "1.32.0", "runtimes", "linux-x64", "native", "libonnxruntime.so");
        return new FileInfo(library).Length;
    }
}
