using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Runtime;

namespace MLNetRetrieval.Images.Gpu;

/// <summary>
/// Runs <see cref="ImageEmbedder"/> inference on an NVIDIA GPU through ONNX Runtime's CUDA execution
/// provider, and falls back to the CPU with a logged warning when CUDA cannot be used.
/// </summary>
/// <remarks>
/// <para>
/// The provider needs the CUDA 12 runtime, cuBLAS and cuDNN 9 on the library path, as listed by ONNX
/// Runtime 1.32 for its GPU package. The session stays on the CPU, with one warning that names the
/// reason, in these cases: the runtime library is missing, no device is found, the device id is out
/// of range, the deployed ONNX Runtime was built without CUDA, or ONNX Runtime rejects the provider.
/// </para>
/// <para>
/// An app that references this package must deploy the GPU build of the ONNX Runtime native library
/// only. The package's build targets remove the CPU package's native files for that reason.
/// </para>
/// </remarks>
public static class CudaExecution
{
    /// <summary>ONNX Runtime's name of the CUDA execution provider.</summary>
    public const string ProviderName = "CUDAExecutionProvider";

    private const string LogName = "MLNetRetrieval.Images.Gpu";

    /// <summary>
    /// Makes the embedder run on CUDA device <paramref name="deviceId"/> when possible, through
    /// <see cref="ImageEmbedderOptions.ConfigureSession"/>; any hook already set runs first.
    /// </summary>
    /// <param name="options">The embedder settings to change.</param>
    /// <param name="deviceId">CUDA device ordinal, 0 for the first GPU.</param>
    /// <param name="context">Receives the fallback warning in <see cref="MLContext.Log"/>; null writes it to <see cref="System.Diagnostics.Trace"/>.</param>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    /// <example><code>
    /// var options = new ImageEmbedderOptions().UseCuda(deviceId: 0, context: ml);
    /// var pipeline = ml.Retrieval().EmbedImages("Embedding", "ImagePath", options);
    /// </code></example>
    public static ImageEmbedderOptions UseCuda(this ImageEmbedderOptions options, int deviceId = 0, MLContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(deviceId);
        Action<SessionOptions>? previous = options.ConfigureSession;
        Action<string> warn = WarningSink(context);
        options.ConfigureSession = session =>
        {
            previous?.Invoke(session);
            TryAppendCuda(session, deviceId, warn);
        };
        return options;
    }

    /// <summary>Appends the CUDA execution provider to <paramref name="session"/> when CUDA can be used.</summary>
    /// <param name="session">Session options of the embedder's ONNX Runtime session.</param>
    /// <param name="deviceId">CUDA device ordinal.</param>
    /// <param name="warn">Receives one message when the session stays on the CPU; may be null.</param>
    /// <returns>True when the provider was appended; false when the session stays on the CPU.</returns>
    public static bool TryAppendCuda(SessionOptions session, int deviceId, Action<string>? warn)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentOutOfRangeException.ThrowIfNegative(deviceId);
        if (FindFallbackReason(deviceId) is { } reason)
        {
            warn?.Invoke($"CUDA is not used, so image embedding runs on the CPU: {reason}");
            return false;
        }

        try
        {
            session.AppendExecutionProvider_CUDA(deviceId);
            return true;
        }
        catch (OnnxRuntimeException error)
        {
            warn?.Invoke($"CUDA is not used, so image embedding runs on the CPU: ONNX Runtime rejected the CUDA provider for device {deviceId} ({error.Message}). Check that cuBLAS and cuDNN 9 are installed.");
            return false;
        }
    }

    /// <summary>Returns why CUDA device <paramref name="deviceId"/> cannot be used, or null when it looks usable.</summary>
    internal static string? FindFallbackReason(int deviceId)
    {
        string[] providers = OrtEnv.Instance().GetAvailableProviders();
        if (!providers.Contains(ProviderName))
        {
            return $"the ONNX Runtime native library in use was built without CUDA (providers: {string.Join(", ", providers)}). " +
                "The app probably deploys the CPU package's native library; keep the MLNetRetrieval.Images.Gpu build targets, which remove it.";
        }

        if (!CudaRuntime.TryGetDeviceCount(out int count, out string? error))
            return error;
        if (count <= deviceId)
            return $"CUDA device {deviceId} was requested but the CUDA runtime reports {count} device(s).";
        return null;
    }

    private static Action<string> WarningSink(MLContext? context)
    {
        if (context is null)
            return static message => System.Diagnostics.Trace.TraceWarning(message);

        return message =>
        {
            using IChannel channel = ((IChannelProvider)context).Start(LogName);
            channel.Warning(MessageSensitivity.None, message);
        };
    }
}
