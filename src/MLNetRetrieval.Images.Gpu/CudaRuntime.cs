using System.Runtime.InteropServices;

namespace MLNetRetrieval.Images.Gpu;

/// <summary>Queries the CUDA runtime library, when one is installed, for the number of CUDA devices.</summary>
internal static class CudaRuntime
{
    // ONNX Runtime 1.32's GPU package is built against CUDA 12; the unversioned name covers a
    // development install whose symlink points at a compatible runtime.
    private static readonly string[] LibraryNames = OperatingSystem.IsWindows()
        ? ["cudart64_12.dll"]
        : ["libcudart.so.12", "libcudart.so"];

    /// <summary>Calls <c>cudaGetDeviceCount</c>.</summary>
    /// <param name="count">Devices found; 0 when the call failed.</param>
    /// <param name="error">Why the count is unknown, or null when the call succeeded.</param>
    /// <returns>True when the runtime library loaded and the call succeeded.</returns>
    public static unsafe bool TryGetDeviceCount(out int count, out string? error)
    {
        count = 0;
        IntPtr library = IntPtr.Zero;
        foreach (string name in LibraryNames)
        {
            if (NativeLibrary.TryLoad(name, out library))
                break;
        }

        if (library == IntPtr.Zero)
        {
            error = $"the CUDA runtime library was not found (tried {string.Join(", ", LibraryNames)}). Install the CUDA 12 runtime or add it to the library path.";
            return false;
        }

        if (!NativeLibrary.TryGetExport(library, "cudaGetDeviceCount", out IntPtr export))
        {
            error = "the CUDA runtime library has no cudaGetDeviceCount export.";
            return false;
        }

        // cudaError_t cudaGetDeviceCount(int* count); 0 is cudaSuccess.
        var getDeviceCount = (delegate* unmanaged<int*, int>)export;
        int devices = 0;
        int status = getDeviceCount(&devices);
        if (status != 0)
        {
            error = $"cudaGetDeviceCount failed with CUDA error {status} (100 means no CUDA-capable device, 35 a driver older than the runtime).";
            return false;
        }

        count = devices;
        error = null;
        return true;
    }
}
