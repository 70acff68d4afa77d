using System.Numerics;
using System.Numerics.Tensors;

namespace MLNetRetrieval.MetricLearning.Losses;

/// <summary>How a classification-style loss turns an embedding x and class weights w_j into logits z_j.</summary>
internal enum LogitForm
{
    /// <summary>z_j = w_j·x + b_j.</summary>
    Linear,

    /// <summary>z_j = s · g_j(cos θ_j) with a fixed scale s and cos θ_j = ŵ_j·x̂.</summary>
    ScaledCosine,

    /// <summary>z_j = ‖x‖ · g_j(cos θ_j): the feature norm is kept, as A-Softmax does.</summary>
    FeatureNormCosine,
}

/// <summary>
/// Maps the clamped target cosine c = cos θ_y to g_y(c) and writes its derivative dg_y / dc.
/// Non-target classes always use g_j(c) = c.
/// </summary>
internal delegate double TargetLogitFunction(double cosine, out double derivative);

/// <summary>Forward and backward pass of softmax cross-entropy over (optionally normalised) class weights.</summary>
internal static class ClassifierMath
{
    /// <summary>
    /// Bound ε of the cosine clamp [−1 + ε, 1 − ε]: 2⁻²³, exact in single and double precision, so both
    /// precisions clamp at the same value. It keeps sin θ = √(1 − c²) at least 4.9e-4, so no margin
    /// derivative divides by zero when rounding pushes a cosine to ±1 or beyond.
    /// </summary>
    public const double CosineClampEpsilon = 1.0 / (1 << 23);

    /// <summary>Lower bound of ‖x‖ and ‖w_j‖ in normalisation, as in PyTorch's <c>F.normalize</c>.</summary>
    /// <remarks>NOTE: an embedding shorter than the floor (in practice an all-zero row) gets a gradient scaled by
    /// 1 / NormFloor, as in PyTorch.</remarks>
    public const double NormFloor = 1e-12;

    /// <summary>
    /// Computes the mean softmax cross-entropy of a batch, overwrites <paramref name="embeddingGradient"/>
    /// and adds into <paramref name="weightGradient"/> and <paramref name="biasGradient"/>.
    /// </summary>
    /// <param name="form">Logit form.</param>
    /// <param name="scale">The scale s of <see cref="LogitForm.ScaledCosine"/>; ignored otherwise.</param>
    /// <param name="target">Target transform of the cosine forms; null means g_y(c) = c.</param>
    /// <param name="x">Embeddings, rows × d.</param>
    /// <param name="labels">Class of each row.</param>
    /// <param name="d">Embedding dimension.</param>
    /// <param name="classes">Number of classes C.</param>
    /// <param name="weights">Class weights, C × d.</param>
    /// <param name="bias">Class biases, length C for <see cref="LogitForm.Linear"/>; empty for the cosine forms.</param>
    /// <param name="embeddingGradient">Output, rows × d.</param>
    /// <param name="weightGradient">Accumulator, C × d.</param>
    /// <param name="biasGradient">Accumulator, shaped as <paramref name="bias"/>.</param>
    /// <returns>The mean loss.</returns>
    public static T Evaluate<T>(LogitForm form, double scale, TargetLogitFunction? target,
        ReadOnlySpan<T> x, ReadOnlySpan<int> labels, int d, int classes,
        ReadOnlySpan<T> weights, ReadOnlySpan<T> bias, Span<T> embeddingGradient, Span<T> weightGradient, Span<T> biasGradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = labels.Length;
        embeddingGradient.Clear();
        if (rows == 0)
        {
            return T.Zero;
        }

        using var scratch = new ScratchArrays<T>();
        return form == LogitForm.Linear
            ? EvaluateLinear(scratch, x, labels, rows, d, classes, weights, bias, embeddingGradient, weightGradient, biasGradient)
            : EvaluateCosine(scratch, form, scale, target, x, labels, rows, d, classes, weights, embeddingGradient, weightGradient);
    }

    private static T EvaluateLinear<T>(ScratchArrays<T> scratch, ReadOnlySpan<T> x, ReadOnlySpan<int> labels, int rows, int d, int classes,
        ReadOnlySpan<T> weights, ReadOnlySpan<T> bias, Span<T> embeddingGradient, Span<T> weightGradient, Span<T> biasGradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> logits = scratch.Take(checked(rows * classes));
        LossMath.MultiplyTransposed(x, rows, weights, classes, d, logits);
        for (int i = 0; i < rows; i++)
        {
            TensorPrimitives.Add(logits.Slice(i * classes, classes), bias, logits.Slice(i * classes, classes));
        }

        T loss = LossMath.SoftmaxCrossEntropy(logits, rows, classes, labels);

        // logits now contains G = d loss / d z (rows × C): dx = G W, dW = Gᵀ X, db = column sums of G.
        Span<T> weightsTransposed = scratch.Take(checked(classes * d));
        LossMath.Transpose(weights, classes, d, weightsTransposed);
        LossMath.MultiplyTransposed(logits, rows, weightsTransposed, d, classes, embeddingGradient);
        AddTransposedProduct(scratch, logits, x, rows, classes, d, weightGradient);
        for (int i = 0; i < rows; i++)
        {
            TensorPrimitives.Add(biasGradient, logits.Slice(i * classes, classes), biasGradient);
        }

        return loss;
    }

    private static T EvaluateCosine<T>(ScratchArrays<T> scratch, LogitForm form, double scale, TargetLogitFunction? target,
        ReadOnlySpan<T> x, ReadOnlySpan<int> labels, int rows, int d, int classes,
        ReadOnlySpan<T> weights, Span<T> embeddingGradient, Span<T> weightGradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> featureNorms = scratch.Take(rows);
        Span<T> unitX = scratch.Take(checked(rows * d));
        Normalize(x, rows, d, unitX, featureNorms);
        Span<T> weightNorms = scratch.Take(classes);
        Span<T> unitW = scratch.Take(checked(classes * d));
        Normalize(weights, classes, d, unitW, weightNorms);

        // cosines keeps the raw ŵ_j·x̂ for the backward projection; logits, values g_j and slopes g'_j use the clamped one.
        int cells = checked(rows * classes);
        Span<T> cosines = scratch.Take(cells);
        Span<T> logits = scratch.Take(cells);
        Span<T> values = scratch.Take(cells);
        Span<T> slopes = scratch.Take(cells);
        LossMath.MultiplyTransposed<T>(unitX, rows, unitW, classes, d, cosines);

        T lower = T.CreateTruncating(-1 + CosineClampEpsilon);
        T upper = T.CreateTruncating(1 - CosineClampEpsilon);
        T fixedScale = T.CreateTruncating(scale);
        for (int i = 0; i < rows; i++)
        {
            T rowScale = form == LogitForm.FeatureNormCosine ? featureNorms[i] : fixedScale;
            for (int j = 0; j < classes; j++)
            {
                int cell = (i * classes) + j;
                T raw = cosines[cell];
                T clamped = T.Clamp(raw, lower, upper);

                // Like torch.clamp, the clamp passes the gradient at its bounds and blocks it beyond them.
                T passes = raw >= lower && raw <= upper ? T.One : T.Zero;
                T value = clamped;
                T slope = T.One;
                if (j == labels[i] && target is not null)
                {
                    value = T.CreateTruncating(target(double.CreateTruncating(clamped), out double derivative));
                    slope = T.CreateTruncating(derivative);
                }

                values[cell] = value;
                slopes[cell] = slope * passes;
                logits[cell] = rowScale * value;
            }
        }

        T loss = LossMath.SoftmaxCrossEntropy(logits, rows, classes, labels);

        // logits now contains G = d loss / d z. With z_ij = a_i g_ij, H_ij = d loss / d cos θ_ij = G_ij a_i g'_ij.
        // Since d cos θ_ij / d x_i = (ŵ_j − cos θ_ij x̂_i) / ‖x_i‖ and d cos θ_ij / d w_j = (x̂_i − cos θ_ij ŵ_j) / ‖w_j‖,
        // both gradients are a matrix product followed by a radial correction per row.
        Span<T> h = scratch.Take(cells);
        Span<T> featureTerms = scratch.Take(rows);
        Span<T> rowRadial = scratch.Take(rows);
        Span<T> classRadial = scratch.Take(classes);
        classRadial.Clear();
        for (int i = 0; i < rows; i++)
        {
            T rowScale = form == LogitForm.FeatureNormCosine ? featureNorms[i] : fixedScale;
            T feature = T.Zero;
            T radial = T.Zero;
            for (int j = 0; j < classes; j++)
            {
                int cell = (i * classes) + j;
                T g = logits[cell];
                h[cell] = g * rowScale * slopes[cell];
                radial += h[cell] * cosines[cell];
                classRadial[j] += h[cell] * cosines[cell];

                // The feature-norm form also depends on ‖x_i‖ directly, with d‖x_i‖ / d x_i = x̂_i.
                feature += g * values[cell];
            }

            rowRadial[i] = radial;
            featureTerms[i] = form == LogitForm.FeatureNormCosine ? feature : T.Zero;
        }

        Span<T> unitWTransposed = scratch.Take(checked(classes * d));
        LossMath.Transpose<T>(unitW, classes, d, unitWTransposed);
        LossMath.MultiplyTransposed(h, rows, unitWTransposed, d, classes, embeddingGradient);
        for (int i = 0; i < rows; i++)
        {
            Span<T> gradient = embeddingGradient.Slice(i * d, d);
            ReadOnlySpan<T> direction = unitX.Slice(i * d, d);
            T inverseNorm = T.One / featureNorms[i];
            for (int k = 0; k < d; k++)
            {
                gradient[k] = ((gradient[k] - (rowRadial[i] * direction[k])) * inverseNorm) + (featureTerms[i] * direction[k]);
            }
        }

        Span<T> weightStep = scratch.Take(checked(classes * d));
        weightStep.Clear();
        AddTransposedProduct(scratch, h, unitX, rows, classes, d, weightStep);
        for (int j = 0; j < classes; j++)
        {
            Span<T> gradient = weightGradient.Slice(j * d, d);
            ReadOnlySpan<T> step = weightStep.Slice(j * d, d);
            ReadOnlySpan<T> direction = unitW.Slice(j * d, d);
            T inverseNorm = T.One / weightNorms[j];
            for (int k = 0; k < d; k++)
            {
                gradient[k] += (step[k] - (classRadial[j] * direction[k])) * inverseNorm;
            }
        }

        return loss;
    }

    /// <summary>Adds Aᵀ B into <paramref name="destination"/>, with A (rows × columnsA), B (rows × columnsB) and the result columnsA × columnsB.</summary>
    private static void AddTransposedProduct<T>(ScratchArrays<T> scratch, ReadOnlySpan<T> a, ReadOnlySpan<T> b, int rows, int columnsA, int columnsB, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> aTransposed = scratch.Take(checked(rows * columnsA));
        Span<T> bTransposed = scratch.Take(checked(rows * columnsB));
        Span<T> product = scratch.Take(checked(columnsA * columnsB));
        LossMath.Transpose(a, rows, columnsA, aTransposed);
        LossMath.Transpose(b, rows, columnsB, bTransposed);
        LossMath.MultiplyTransposed<T>(aTransposed, columnsA, bTransposed, columnsB, rows, product);
        TensorPrimitives.Add(destination, product, destination);
    }

    /// <summary>Writes each row divided by max(‖row‖, <see cref="NormFloor"/>), and that divisor.</summary>
    private static void Normalize<T>(ReadOnlySpan<T> source, int rows, int d, Span<T> unit, Span<T> norms)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T floor = T.CreateTruncating(NormFloor);
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<T> row = source.Slice(i * d, d);
            T norm = T.Max(TensorPrimitives.Norm(row), floor);
            norms[i] = norm;
            TensorPrimitives.Divide(row, norm, unit.Slice(i * d, d));
        }
    }

    /// <summary>Pooled arrays for one evaluation, returned together on dispose.</summary>
    private sealed class ScratchArrays<T> : IDisposable
    {
        private readonly List<T[]> _rented = [];

        public Span<T> Take(int length)
        {
            T[] array = LossMath.RentCleared<T>(length);
            _rented.Add(array);
            return array.AsSpan(0, length);
        }

        public void Dispose()
        {
            foreach (T[] array in _rented)
            {
                LossMath.Return(array);
            }

            _rented.Clear();
        }
    }
}
