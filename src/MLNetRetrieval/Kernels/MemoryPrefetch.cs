using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace MLNetRetrieval.Kernels;

/// <summary>
/// Software prefetch hints for data that a hot loop will read soon, such as the next graph node's vector while the
/// current node's distance is computed. A hint never changes results, and it is a no-op without SSE.
/// </summary>
internal static unsafe class MemoryPrefetch
{
    private const int CacheLineBytes = 64;

    /// <summary>
    /// Asks the CPU to load the first <paramref name="cacheLines"/> 64-byte lines from <paramref name="location"/> on
    /// into every cache level (PREFETCHT0).
    /// </summary>
    /// <remarks>
    /// The address comes from a managed reference without pinning. If the GC moves the array in between, the hint
    /// only loads a stale line, because a prefetch never faults.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch<T>(ref readonly T location, int cacheLines)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        byte* address = (byte*)Unsafe.AsPointer(ref Unsafe.AsRef(in location));
        for (int line = 0; line < cacheLines; line++)
        {
            Sse.Prefetch0(address + (line * CacheLineBytes));
        }
    }
}
