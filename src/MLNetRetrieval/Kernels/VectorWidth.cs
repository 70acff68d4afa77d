using System.Runtime.Intrinsics;

namespace MLNetRetrieval.Kernels;

/// <summary>
/// Register width that a kernel runs with. Production code uses <see cref="VectorWidths.Best"/>;
/// tests pass a narrower width to run the same kernel on its Vector256, Vector128 or scalar path.
/// </summary>
internal enum VectorWidth
{
    Scalar = 0,
    Vector128 = 128,
    Vector256 = 256,
    Vector512 = 512,
}

/// <summary>Width selection, made once per process.</summary>
internal static class VectorWidths
{
    /// <summary>The widest accelerated width on this machine, chosen once at type initialization.</summary>
    public static readonly VectorWidth Best = SelectBest();

    /// <summary>Returns whether kernels can run at <paramref name="width"/> on this machine.</summary>
    public static bool IsSupported(VectorWidth width) => width switch
    {
        VectorWidth.Scalar => true,
        VectorWidth.Vector128 => Vector128.IsHardwareAccelerated,
        VectorWidth.Vector256 => Vector256.IsHardwareAccelerated,
        VectorWidth.Vector512 => Vector512.IsHardwareAccelerated,
        _ => false,
    };

    /// <summary>Returns every width that runs on this machine, widest first.</summary>
    public static IReadOnlyList<VectorWidth> Available()
    {
        var widths = new List<VectorWidth>();
        foreach (VectorWidth width in new[] { VectorWidth.Vector512, VectorWidth.Vector256, VectorWidth.Vector128, VectorWidth.Scalar })
        {
            if (IsSupported(width))
            {
                widths.Add(width);
            }
        }

        return widths;
    }

    /// <summary>Throws when <paramref name="width"/> cannot run here, so a forced width never falls back silently.</summary>
    public static void EnsureSupported(VectorWidth width)
    {
        if (!IsSupported(width))
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, $"Vector width {width} is not hardware accelerated on this machine; use one of {string.Join(", ", Available())}.");
        }
    }

    private static VectorWidth SelectBest()
    {
        if (Vector512.IsHardwareAccelerated)
        {
            return VectorWidth.Vector512;
        }

        if (Vector256.IsHardwareAccelerated)
        {
            return VectorWidth.Vector256;
        }

        return Vector128.IsHardwareAccelerated ? VectorWidth.Vector128 : VectorWidth.Scalar;
    }
}
