using System.Numerics.Tensors;

namespace MLNetRetrieval.Indexes;

/// <summary>Input checks and normalization shared by the indexes.</summary>
internal static class VectorChecks
{
    /// <summary>Largest supported dimension; also bounds what a file may declare.</summary>
    public const int MaxDimension = 1 << 20;

    /// <summary>Returns the row count of a flat row-major buffer, or throws naming the expected and actual length.</summary>
    public static int RowCount(ReadOnlySpan<float> vectors, int dimension, string parameterName)
    {
        if (vectors.Length % dimension != 0)
        {
            throw new ArgumentException(
                $"Expected a multiple of the dimension {dimension} floats (rows × {dimension}, row-major), got {vectors.Length}, which leaves {vectors.Length % dimension} extra.",
                parameterName);
        }

        return vectors.Length / dimension;
    }

    /// <summary>Throws when a value is NaN or infinite, naming the row, column and value.</summary>
    public static void EnsureFinite(ReadOnlySpan<float> vectors, int dimension, string parameterName)
    {
        for (int i = 0; i < vectors.Length; i++)
        {
            if (!float.IsFinite(vectors[i]))
            {
                throw new ArgumentException(
                    $"Row {i / dimension}, column {i % dimension} is {vectors[i]}; every value must be finite.",
                    parameterName);
            }
        }
    }

    /// <summary>Writes unit-length copies of the rows into <paramref name="destination"/>, rejecting zero rows.</summary>
    public static void Normalize(ReadOnlySpan<float> vectors, int dimension, Span<float> destination, string parameterName)
    {
        int rows = vectors.Length / dimension;
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> source = vectors.Slice(row * dimension, dimension);
            double sum = 0;
            foreach (float value in source)
            {
                sum += (double)value * value;
            }

            if (sum == 0 || !double.IsFinite(sum))
            {
                throw new ArgumentException(
                    sum == 0
                        ? $"Row {row} is a zero vector, which has no direction under the Cosine metric; remove it or use another metric."
                        : $"Row {row} has a squared norm that overflows double precision; scale the data down.",
                    parameterName);
            }

            float inverse = (float)(1.0 / Math.Sqrt(sum));
            TensorPrimitives.Multiply(source, inverse, destination.Slice(row * dimension, dimension));
        }
    }
}
