using System.Numerics.Tensors;
using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.Verification;

/// <summary>How a gallery turns an identity's enrolled images into a similarity with a probe.</summary>
public enum GalleryTemplate : byte
{
    /// <summary>One template per identity: the mean of its L2-normalised embeddings; similarity is the cosine with that mean.</summary>
    MeanEmbedding = 0,

    /// <summary>Every image is kept; an identity's similarity is the maximum cosine over its images.</summary>
    BestOf = 1,
}

/// <summary>A gallery identity returned for a probe.</summary>
/// <param name="Identity">The enrolled identity.</param>
/// <param name="Similarity">Cosine similarity with the probe, in [−1, 1]; higher is more similar.</param>
public readonly record struct IdentificationCandidate(string Identity, float Similarity);

/// <summary>
/// A gallery of enrolled identities, several images each, searched by cosine similarity with an
/// <see cref="ExactIndex"/>.
/// </summary>
/// <remarks>
/// Candidate lists rank identities by similarity, highest first; equal similarities keep the order
/// of the index, which ranks the lower row first. Zero vectors have no direction and are rejected.
/// </remarks>
public sealed class IdentificationGallery
{
    private readonly ExactIndex _index;
    private readonly string[] _identities;
    private readonly Dictionary<string, int> _identityNumbers;

    // Identity number of each index row: the row itself for MeanEmbedding, the image's identity for BestOf.
    private readonly int[] _identityOfRow;

    /// <summary>Enrols images with their identities.</summary>
    /// <param name="vectors">Row-major embeddings, size imageCount * dimension, none of them zero.</param>
    /// <param name="dimension">Components per embedding.</param>
    /// <param name="identities">Identity of each image, size imageCount.</param>
    /// <param name="template">How an identity's images form its similarity.</param>
    /// <exception cref="ArgumentException">
    /// The sizes disagree, an embedding is zero or not finite, an identity is null, or the template is unknown.
    /// </exception>
    public IdentificationGallery(ReadOnlySpan<float> vectors, int dimension, IReadOnlyList<string> identities, GalleryTemplate template)
    {
        ArgumentNullException.ThrowIfNull(identities);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (!Enum.IsDefined(template))
            throw new ArgumentOutOfRangeException(nameof(template), template, $"Unknown gallery template. Use one of: {string.Join(", ", Enum.GetNames<GalleryTemplate>())}.");
        if (vectors.Length != checked(identities.Count * dimension))
            throw new ArgumentException($"The gallery has {identities.Count} identities but {vectors.Length} values; expected {identities.Count} × {dimension}.", nameof(vectors));
        if (identities.Count == 0)
            throw new ArgumentException("The gallery has no images. Enrol at least one.", nameof(identities));

        float[] normalized = Normalize(vectors, dimension, nameof(vectors));
        _identityNumbers = new Dictionary<string, int>(StringComparer.Ordinal);
        var names = new List<string>();
        var identityOfImage = new int[identities.Count];
        for (int i = 0; i < identities.Count; i++)
        {
            string name = identities[i] ?? throw new ArgumentException($"Identity of image {i} is null.", nameof(identities));
            if (!_identityNumbers.TryGetValue(name, out int number))
            {
                number = names.Count;
                _identityNumbers.Add(name, number);
                names.Add(name);
            }

            identityOfImage[i] = number;
        }

        _identities = names.ToArray();
        Template = template;
        Dimension = dimension;
        ImageCount = identities.Count;
        _index = new ExactIndex(dimension, DistanceMetric.Cosine);
        if (template == GalleryTemplate.MeanEmbedding)
        {
            _index.Add(MeanTemplates(normalized, dimension, identityOfImage, _identities));
            _identityOfRow = Enumerable.Range(0, _identities.Length).ToArray();
        }
        else
        {
            _index.Add(normalized);
            _identityOfRow = identityOfImage;
        }
    }

    /// <summary>Components per embedding.</summary>
    public int Dimension { get; }

    /// <summary>Images enrolled.</summary>
    public int ImageCount { get; }

    /// <summary>How an identity's images form its similarity.</summary>
    public GalleryTemplate Template { get; }

    /// <summary>The enrolled identities, in order of first appearance.</summary>
    public IReadOnlyList<string> Identities => _identities;

    /// <summary>Checks whether <paramref name="identity"/> is enrolled.</summary>
    /// <param name="identity">The identity.</param>
    /// <returns>True when the gallery has images of it.</returns>
    public bool Contains(string identity) => _identityNumbers.ContainsKey(identity);

    /// <summary>Returns the most similar enrolled identities of each probe.</summary>
    /// <param name="probes">Row-major probe embeddings, size probeCount * <see cref="Dimension"/>, none of them zero.</param>
    /// <param name="candidateCount">Candidates per probe (the rank R of the candidate list), at least 1; capped at the number of identities.</param>
    /// <returns>One candidate list per probe, highest similarity first.</returns>
    /// <exception cref="ArgumentException">The probe size is wrong, a probe is zero or not finite, or the count is below 1.</exception>
    public IdentificationCandidate[][] Identify(ReadOnlySpan<float> probes, int candidateCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(candidateCount);
        if (probes.Length % Dimension != 0)
            throw new ArgumentException($"The probe array has {probes.Length} values, which is not a multiple of the gallery dimension {Dimension}.", nameof(probes));
        float[] normalized = Normalize(probes, Dimension, nameof(probes));
        int probeCount = probes.Length / Dimension;
        int requested = Math.Min(candidateCount, _identities.Length);

        // A best-of search must look past repeated images of one identity, so it ranks the whole
        // gallery; mean templates are one row per identity.
        int k = Template == GalleryTemplate.MeanEmbedding ? requested : _index.Count;
        var ids = new long[checked(probeCount * k)];
        var distances = new float[ids.Length];
        if (probeCount > 0)
            _index.Search(normalized, k, ids, distances);

        var results = new IdentificationCandidate[probeCount][];
        var seen = new bool[_identities.Length];
        for (int p = 0; p < probeCount; p++)
        {
            Array.Clear(seen);
            var candidates = new List<IdentificationCandidate>(requested);
            for (int j = 0; j < k && candidates.Count < requested; j++)
            {
                long id = ids[(p * k) + j];
                if (id < 0)
                    break;
                int identity = _identityOfRow[id];
                if (seen[identity])
                    continue;
                seen[identity] = true;
                candidates.Add(new IdentificationCandidate(_identities[identity], 1 - distances[(p * k) + j]));
            }

            results[p] = candidates.ToArray();
        }

        return results;
    }

    private static float[] Normalize(ReadOnlySpan<float> vectors, int dimension, string parameterName)
    {
        var normalized = new float[vectors.Length];
        for (int row = 0; row < vectors.Length / dimension; row++)
        {
            ReadOnlySpan<float> vector = vectors.Slice(row * dimension, dimension);
            float norm = TensorPrimitives.Norm(vector);
            if (!(norm > 0) || !float.IsFinite(norm))
                throw new ArgumentException($"Embedding {row} has norm {norm}; gallery and probe embeddings must be finite and non-zero.", parameterName);
            TensorPrimitives.Divide(vector, norm, normalized.AsSpan(row * dimension, dimension));
        }

        return normalized;
    }

    private static float[] MeanTemplates(float[] normalized, int dimension, int[] identityOfImage, string[] names)
    {
        int identityCount = names.Length;
        var sums = new float[checked(identityCount * dimension)];
        var counts = new int[identityCount];
        for (int i = 0; i < identityOfImage.Length; i++)
        {
            Span<float> sum = sums.AsSpan(identityOfImage[i] * dimension, dimension);
            TensorPrimitives.Add(sum, normalized.AsSpan(i * dimension, dimension), sum);
            counts[identityOfImage[i]]++;
        }

        for (int c = 0; c < identityCount; c++)
        {
            Span<float> mean = sums.AsSpan(c * dimension, dimension);
            TensorPrimitives.Divide(mean, counts[c], mean);
            // NOTE: images of one identity pointing in opposite directions average to a zero
            // template, whose cosine with any probe is undefined.
            if (TensorPrimitives.Norm(mean) == 0)
                throw new ArgumentException($"The mean embedding of identity '{names[c]}' is zero because its images cancel out. Use GalleryTemplate.BestOf.", "identities");
        }

        return sums;
    }
}
