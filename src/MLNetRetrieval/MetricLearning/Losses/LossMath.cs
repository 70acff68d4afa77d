using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using MLNetRetrieval.Kernels;

namespace MLNetRetrieval.MetricLearning.Losses;

/// <summary>
/// Batch operations shared by the losses, generic over <see cref="float"/> (training) and
/// <see cref="double"/> (the reference path that gradient checks run on).
/// </summary>
/// <remarks>
/// Matrix products of <see cref="float"/> go through the blocked <see cref="GemmKernel"/>; those of
/// <see cref="double"/> use one <see cref="TensorPrimitives"/> dot product per element, which is fast
/// enough for the small inputs of tests.
/// </remarks>
internal static class LossMath
{
    /// <summary>
    /// Computes C = A·Bᵀ with A (m × d), B (n × d) and C (m × n), all row-major.
    /// </summary>
    public static void MultiplyTransposed<T>(ReadOnlySpan<T> a, int m, ReadOnlySpan<T> b, int n, int d, Span<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        if (typeof(T) == typeof(float))
        {
            GemmKernel.MultiplyTransposed(
                MemoryMarshal.Cast<T, float>(a), m, MemoryMarshal.Cast<T, float>(b), n, d, MemoryMarshal.Cast<T, float>(c), VectorWidths.Best);
            return;
        }

        for (int i = 0; i < m; i++)
        {
            ReadOnlySpan<T> row = a.Slice(i * d, d);
            for (int j = 0; j < n; j++)
            {
                c[(i * n) + j] = TensorPrimitives.Dot(row, b.Slice(j * d, d));
            }
        }
    }

    /// <summary>Writes the transpose of <paramref name="source"/> (rows × columns) into <paramref name="destination"/> (columns × rows).</summary>
    public static void Transpose<T>(ReadOnlySpan<T> source, int rows, int columns, Span<T> destination)
    {
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                destination[(j * rows) + i] = source[(i * columns) + j];
            }
        }
    }

    /// <summary>
    /// Fills the n × n matrix of squared L2 distances between the rows of <paramref name="x"/> (n × d)
    /// by the expansion ‖x_i‖² + ‖x_j‖² − 2 x_i·x_j, clamped at 0, with an exact zero diagonal.
    /// </summary>
    public static void SquaredDistances<T>(ReadOnlySpan<T> x, int n, int d, Span<T> distances)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        MultiplyTransposed(x, n, x, n, d, distances);
        T[] norms = ArrayPool<T>.Shared.Rent(n);
        try
        {
            for (int i = 0; i < n; i++)
            {
                norms[i] = distances[(i * n) + i];
            }

            T two = T.CreateTruncating(2);
            for (int i = 0; i < n; i++)
            {
                Span<T> row = distances.Slice(i * n, n);
                for (int j = 0; j < n; j++)
                {
                    row[j] = T.Max(T.Zero, norms[i] + norms[j] - (two * row[j]));
                }

                row[i] = T.Zero;
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(norms);
        }
    }

    /// <summary>
    /// Writes d loss / d x from a symmetric weight matrix <paramref name="weights"/> (n × n) whose entry
    /// w_ij is d loss / d D²_ij for the unordered pair {i, j}, counted once in each of its two cells.
    /// </summary>
    /// <remarks>
    /// Because d D²_ij / d x_i = 2 (x_i − x_j), the gradient of row i is 2 (r_i x_i − (W X)_i) with
    /// r_i = Σ_j w_ij, so the whole backward pass is one n × n × d matrix product.
    /// </remarks>
    public static void DistanceGradient<T>(ReadOnlySpan<T> x, int n, int d, ReadOnlySpan<T> weights, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] transposed = ArrayPool<T>.Shared.Rent(checked(n * d));
        try
        {
            Span<T> xt = transposed.AsSpan(0, n * d);
            Transpose(x, n, d, xt);
            MultiplyTransposed(weights, n, xt, d, n, gradient);
            T two = T.CreateTruncating(2);
            for (int i = 0; i < n; i++)
            {
                T rowSum = TensorPrimitives.Sum(weights.Slice(i * n, n));
                Span<T> g = gradient.Slice(i * d, d);
                ReadOnlySpan<T> xi = x.Slice(i * d, d);
                for (int k = 0; k < d; k++)
                {
                    g[k] = two * ((rowSum * xi[k]) - g[k]);
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(transposed);
        }
    }

    /// <summary>
    /// Replaces each row of <paramref name="logits"/> (rows × classes) by d loss / d logits of the mean
    /// softmax cross-entropy, (softmax − one-hot) / rows, and returns that mean loss.
    /// </summary>
    /// <remarks>The maximum logit is subtracted before exponentiation, so large scales cannot overflow.</remarks>
    public static T SoftmaxCrossEntropy<T>(Span<T> logits, int rows, int classes, ReadOnlySpan<int> labels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T total = T.Zero;
        T inverseRows = T.One / T.CreateTruncating(rows);
        for (int i = 0; i < rows; i++)
        {
            Span<T> z = logits.Slice(i * classes, classes);
            T max = TensorPrimitives.Max<T>(z);
            T sum = T.Zero;
            for (int j = 0; j < classes; j++)
            {
                z[j] = T.Exp(z[j] - max);
                sum += z[j];
            }

            int y = labels[i];
            T targetProbability = z[y] / sum;
            total -= T.Log(targetProbability);
            for (int j = 0; j < classes; j++)
            {
                z[j] = z[j] / sum * inverseRows;
            }

            z[y] -= inverseRows;
        }

        return total * inverseRows;
    }

    /// <summary>
    /// Checks the batch shapes and labels every <see cref="MetricLoss.Compute"/> receives, and returns the batch size.
    /// </summary>
    public static int CheckBatch<T>(ReadOnlySpan<T> embeddings, ReadOnlySpan<int> labels, Span<T> embeddingGradient, int dimension, int classCount, string lossName)
    {
        if (dimension == 0)
        {
            throw new InvalidOperationException($"{lossName} is not initialized; call Initialize(embeddingDimension, classCount, random) before Compute.");
        }

        int rows = labels.Length;
        if (embeddings.Length != checked(rows * dimension))
        {
            throw new ArgumentException(
                $"embeddings has {embeddings.Length} values, expected labels.Length * dimension = {rows} * {dimension} = {rows * dimension}.",
                nameof(embeddings));
        }

        if (embeddingGradient.Length != embeddings.Length)
        {
            throw new ArgumentException(
                $"embeddingGradient has {embeddingGradient.Length} values, expected the length of embeddings, {embeddings.Length}.",
                nameof(embeddingGradient));
        }

        for (int i = 0; i < rows; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(labels), labels[i], $"Label at row {i} is {labels[i]}, outside [0, {classCount}); map labels to 0..classCount-1 before training.");
            }
        }

        return rows;
    }

    /// <summary>Checks the arguments of <see cref="MetricLoss.Initialize"/>.</summary>
    public static void CheckInitialize(int embeddingDimension, int classCount, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (embeddingDimension < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(embeddingDimension), embeddingDimension, $"embeddingDimension is {embeddingDimension}; it must be at least 1.");
        }

        if (classCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, $"classCount is {classCount}; it must be at least 1.");
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is finite and in [<paramref name="minimum"/>, <paramref name="maximum"/>].</summary>
    public static void CheckRange(double value, double minimum, double maximum, string name)
    {
        if (!double.IsFinite(value) || value < minimum || value > maximum)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} is {value}; it must be a finite number in [{minimum}, {maximum}].");
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is finite and greater than <paramref name="exclusiveMinimum"/> (and at most <paramref name="maximum"/>).</summary>
    public static void CheckAbove(double value, double exclusiveMinimum, double maximum, string name)
    {
        if (!double.IsFinite(value) || value <= exclusiveMinimum || value > maximum)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} is {value}; it must be a finite number in ({exclusiveMinimum}, {maximum}].");
        }
    }

    /// <summary>Fills <paramref name="values"/> uniformly from [−bound, bound].</summary>
    public static void FillUniform(Span<float> values, float bound, Random random)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(((2 * random.NextDouble()) - 1) * bound);
        }
    }

    /// <summary>Returns a rented array cleared over its first <paramref name="length"/> elements.</summary>
    public static T[] RentCleared<T>(int length)
    {
        T[] array = ArrayPool<T>.Shared.Rent(length);
        Array.Clear(array, 0, length);
        return array;
    }

    /// <summary>Returns an array from <see cref="RentCleared"/>.</summary>
    public static void Return<T>(T[] array) => ArrayPool<T>.Shared.Return(array);
}
