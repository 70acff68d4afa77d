using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MLNetRetrieval.Kernels;

/// <summary>
/// Distances between two float32 vectors of equal length. The default overloads use
/// <see cref="TensorPrimitives"/> where it has the operation; the overloads with a
/// <see cref="VectorWidth"/> run this file's own loop at that width, and the <c>Scalar</c>
/// methods are the plain reference twins that tests compare against.
/// </summary>
internal static unsafe class DistanceKernels
{
    /// <summary>Returns ‖x − y‖² at the best width.</summary>
    public static float SquaredL2(ReadOnlySpan<float> x, ReadOnlySpan<float> y) => SquaredL2(x, y, VectorWidths.Best);

    /// <summary>Returns ‖x − y‖² computed with registers of <paramref name="width"/>.</summary>
    public static float SquaredL2(ReadOnlySpan<float> x, ReadOnlySpan<float> y, VectorWidth width)
    {
        CheckLengths(x, y);
        return width switch
        {
            VectorWidth.Vector512 => SquaredL2<Vector512<float>, Vector512Ops>(x, y),
            VectorWidth.Vector256 => SquaredL2<Vector256<float>, Vector256Ops>(x, y),
            VectorWidth.Vector128 => SquaredL2<Vector128<float>, Vector128Ops>(x, y),
            _ => SquaredL2Scalar(x, y),
        };
    }

    /// <summary>
    /// Returns ‖x − y‖² over <paramref name="n"/> floats at the best width, summed in the same order as
    /// <see cref="SquaredL2(ReadOnlySpan{float}, ReadOnlySpan{float})"/>. The caller guarantees that both
    /// references start <paramref name="n"/> readable floats. This is the graph search's hot path, which
    /// skips the length check and the span setup.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SquaredL2Unchecked(ref readonly float x, ref readonly float y, int n)
    {
        fixed (float* px = &x, py = &y)
        {
            return VectorWidths.Best switch
            {
                VectorWidth.Vector512 => SquaredL2<Vector512<float>, Vector512Ops>(px, py, n),
                VectorWidth.Vector256 => SquaredL2<Vector256<float>, Vector256Ops>(px, py, n),
                VectorWidth.Vector128 => SquaredL2<Vector128<float>, Vector128Ops>(px, py, n),
                _ => SquaredL2Scalar(new ReadOnlySpan<float>(px, n), new ReadOnlySpan<float>(py, n)),
            };
        }
    }

    /// <summary>Returns x · y through <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>.</summary>
    public static float InnerProduct(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        CheckLengths(x, y);
        return TensorPrimitives.Dot(x, y);
    }

    /// <summary>Returns x · y computed with registers of <paramref name="width"/>.</summary>
    public static float InnerProduct(ReadOnlySpan<float> x, ReadOnlySpan<float> y, VectorWidth width)
    {
        CheckLengths(x, y);
        return width switch
        {
            VectorWidth.Vector512 => Dot<Vector512<float>, Vector512Ops>(x, y),
            VectorWidth.Vector256 => Dot<Vector256<float>, Vector256Ops>(x, y),
            VectorWidth.Vector128 => Dot<Vector128<float>, Vector128Ops>(x, y),
            _ => InnerProductScalar(x, y),
        };
    }

    /// <summary>
    /// Returns the cosine distance 1 − x·y / (‖x‖ ‖y‖) through
    /// <see cref="TensorPrimitives.CosineSimilarity(ReadOnlySpan{float}, ReadOnlySpan{float})"/>.
    /// The result is NaN when either vector is zero.
    /// </summary>
    public static float CosineDistance(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        CheckLengths(x, y);
        return 1f - TensorPrimitives.CosineSimilarity(x, y);
    }

    /// <summary>Returns the cosine distance computed with registers of <paramref name="width"/>.</summary>
    public static float CosineDistance(ReadOnlySpan<float> x, ReadOnlySpan<float> y, VectorWidth width)
    {
        float dot = InnerProduct(x, y, width);
        float xx = InnerProduct(x, x, width);
        float yy = InnerProduct(y, y, width);
        return 1f - (dot / MathF.Sqrt(xx * yy));
    }

    /// <summary>Scalar reference for <see cref="SquaredL2(ReadOnlySpan{float}, ReadOnlySpan{float})"/>.</summary>
    public static float SquaredL2Scalar(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        CheckLengths(x, y);
        float sum = 0f;
        for (int i = 0; i < x.Length; i++)
        {
            float diff = x[i] - y[i];
            sum += diff * diff;
        }

        return sum;
    }

    /// <summary>Scalar reference for <see cref="InnerProduct(ReadOnlySpan{float}, ReadOnlySpan{float})"/>.</summary>
    public static float InnerProductScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        CheckLengths(x, y);
        float sum = 0f;
        for (int i = 0; i < x.Length; i++)
        {
            sum += x[i] * y[i];
        }

        return sum;
    }

    /// <summary>Scalar reference for <see cref="CosineDistance(ReadOnlySpan{float}, ReadOnlySpan{float})"/>.</summary>
    public static float CosineDistanceScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float dot = InnerProductScalar(x, y);
        float xx = InnerProductScalar(x, x);
        float yy = InnerProductScalar(y, y);
        return 1f - (dot / MathF.Sqrt(xx * yy));
    }

    private static float SquaredL2<TVec, TOps>(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
        where TVec : struct
        where TOps : ISimdOps<TVec>
    {
        fixed (float* px = x, py = y)
        {
            return SquaredL2<TVec, TOps>(px, py, x.Length);
        }
    }

    private static float SquaredL2<TVec, TOps>(float* px, float* py, int n)
        where TVec : struct
        where TOps : ISimdOps<TVec>
    {
        int lanes = TOps.Count;
        // Two accumulators hide the FMA latency; the tail runs scalar.
        TVec sum0 = TOps.Zero;
        TVec sum1 = TOps.Zero;
        int i = 0;
        for (; i <= n - (2 * lanes); i += 2 * lanes)
        {
            TVec d0 = TOps.Subtract(TOps.Load(px + i), TOps.Load(py + i));
            TVec d1 = TOps.Subtract(TOps.Load(px + i + lanes), TOps.Load(py + i + lanes));
            sum0 = TOps.MultiplyAdd(d0, d0, sum0);
            sum1 = TOps.MultiplyAdd(d1, d1, sum1);
        }

        for (; i <= n - lanes; i += lanes)
        {
            TVec d0 = TOps.Subtract(TOps.Load(px + i), TOps.Load(py + i));
            sum0 = TOps.MultiplyAdd(d0, d0, sum0);
        }

        float sum = TOps.Sum(TOps.Add(sum0, sum1));
        for (; i < n; i++)
        {
            float diff = px[i] - py[i];
            sum = MathF.FusedMultiplyAdd(diff, diff, sum);
        }

        return sum;
    }

    private static float Dot<TVec, TOps>(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
        where TVec : struct
        where TOps : ISimdOps<TVec>
    {
        int n = x.Length;
        int lanes = TOps.Count;
        fixed (float* px = x, py = y)
        {
            TVec sum0 = TOps.Zero;
            TVec sum1 = TOps.Zero;
            int i = 0;
            for (; i <= n - (2 * lanes); i += 2 * lanes)
            {
                sum0 = TOps.MultiplyAdd(TOps.Load(px + i), TOps.Load(py + i), sum0);
                sum1 = TOps.MultiplyAdd(TOps.Load(px + i + lanes), TOps.Load(py + i + lanes), sum1);
            }

            for (; i <= n - lanes; i += lanes)
            {
                sum0 = TOps.MultiplyAdd(TOps.Load(px + i), TOps.Load(py + i), sum0);
            }

            float sum = TOps.Sum(TOps.Add(sum0, sum1));
            for (; i < n; i++)
            {
                sum = MathF.FusedMultiplyAdd(px[i], py[i], sum);
            }

            return sum;
        }
    }

    private static void CheckLengths(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"Vectors must have equal lengths, got {x.Length} and {y.Length}.", nameof(y));
        }
    }
}
