using MLNetRetrieval.Indexes;
using MLNetRetrieval.Kernels;

namespace MLNetRetrieval.Quantization;

/// <summary>
/// Product quantizer (Jégou, Douze and Schmid, "Product quantization for nearest neighbor search", IEEE
/// TPAMI 33(1), 2011): splits a d-dimensional vector into M subvectors of d / M values and replaces each by
/// the index of its nearest centroid in that subspace's codebook of 2^nbits centroids, so a vector becomes
/// M indices (M bytes at nbits = 8).
/// </summary>
/// <remarks>
/// <para>Distances to codes come in two forms. Asymmetric (ADC): the query stays exact, its squared distances
/// to every centroid are tabulated once (M × ksub floats, <see cref="ComputeDistanceTable"/>), and each code
/// then costs M table lookups instead of d multiply-adds; ADC equals the squared distance to the decoded
/// vector. Symmetric (SDC): both sides are codes, and precomputed centroid-to-centroid tables
/// (M × ksub × ksub floats, built on first use) give the squared distance between the two decoded vectors.</para>
/// <para>Only nbits = 8 is supported: one byte per sub-code, <see cref="CodeSize"/> = M.</para>
/// <para>Training, encoding and scoring may run concurrently with each other once <see cref="Train"/> has returned.</para>
/// </remarks>
public sealed partial class ProductQuantizer
{
    private readonly object _cacheLock = new();
    private PackedBase[]? _packedBooks;
    private float[]? _symmetricTables;

    /// <summary>Creates an untrained quantizer.</summary>
    /// <param name="dimension">Length d of every vector, in [1, 1048576], a multiple of <paramref name="numberOfSubquantizers"/>.</param>
    /// <param name="numberOfSubquantizers">Number of subspaces M, at least 1.</param>
    /// <param name="bitsPerSubquantizer">Bits per sub-code nbits; only 8 is supported.</param>
    /// <exception cref="ArgumentException">A value is out of range or d is not a multiple of M.</exception>
    public ProductQuantizer(int dimension, int numberOfSubquantizers, int bitsPerSubquantizer = 8)
    {
        if (dimension < 1 || dimension > VectorChecks.MaxDimension)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"Dimension must be in [1, {VectorChecks.MaxDimension}].");
        }

        if (numberOfSubquantizers < 1 || numberOfSubquantizers > dimension)
        {
            throw new ArgumentOutOfRangeException(nameof(numberOfSubquantizers), numberOfSubquantizers, $"The number of subquantizers M must be in [1, dimension = {dimension}].");
        }

        if (dimension % numberOfSubquantizers != 0)
        {
            throw new ArgumentException(
                $"Dimension d = {dimension} is not a multiple of the number of subquantizers M = {numberOfSubquantizers} (d % M = {dimension % numberOfSubquantizers}); choose M among the divisors of d.",
                nameof(numberOfSubquantizers));
        }

        if (bitsPerSubquantizer != 8)
        {
            // TODO: 4-bit codes with a register-shuffle ("fast scan") kernel.
            throw new ArgumentOutOfRangeException(nameof(bitsPerSubquantizer), bitsPerSubquantizer, "Only 8 bits per subquantizer are supported.");
        }

        Dimension = dimension;
        NumberOfSubquantizers = numberOfSubquantizers;
        BitsPerSubquantizer = bitsPerSubquantizer;
        Codebooks = new float[checked(numberOfSubquantizers * CentroidsPerSubquantizer * SubDimension)];
    }

    /// <summary>Length d of every vector.</summary>
    public int Dimension { get; }

    /// <summary>Number of subspaces M.</summary>
    public int NumberOfSubquantizers { get; }

    /// <summary>Bits per sub-code, nbits.</summary>
    public int BitsPerSubquantizer { get; }

    /// <summary>Centroids per subspace codebook, ksub = 2^nbits.</summary>
    public int CentroidsPerSubquantizer => 1 << BitsPerSubquantizer;

    /// <summary>Length of every subvector, dsub = d / M.</summary>
    public int SubDimension => Dimension / NumberOfSubquantizers;

    /// <summary>Bytes per encoded vector: ⌈M · nbits / 8⌉, which is M at nbits = 8.</summary>
    public int CodeSize => ((NumberOfSubquantizers * BitsPerSubquantizer) + 7) / 8;

    /// <summary>Centroids of every subspace, layout (M, ksub, dsub); zeros until trained.</summary>
    public float[] Codebooks { get; private set; }

    /// <summary>Whether <see cref="Train"/> (or <see cref="Load"/>) has set the codebooks.</summary>
    public bool IsTrained { get; private set; }

    /// <summary>Length of a distance table, M × ksub.</summary>
    private int TableLength => NumberOfSubquantizers * CentroidsPerSubquantizer;

    /// <summary>Register width of the kernels; tests set a narrower one to cover every code path.</summary>
    internal VectorWidth Width { get; set; } = VectorWidths.Best;

    /// <summary>Trains the codebooks with one k-means per subspace.</summary>
    /// <param name="data">Training vectors, row-major, size <paramref name="count"/> × <see cref="Dimension"/>.</param>
    /// <param name="count">Number of training vectors, at least ksub.</param>
    /// <param name="options">k-means settings; null uses the defaults. <see cref="KMeansOptions.NumberOfClusters"/> is
    /// ignored (each subspace gets ksub clusters), and subspace m uses the seed <see cref="KMeansOptions.Seed"/> + m.</param>
    /// <exception cref="ArgumentException">The buffer length does not match, there are fewer than ksub vectors, or a value is NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">The token in <paramref name="options"/> was canceled.</exception>
    public void Train(ReadOnlySpan<float> data, int count, KMeansOptions? options = null)
    {
        int ksub = CentroidsPerSubquantizer;
        CheckVectors(data, count, nameof(data));
        if (count < ksub)
        {
            throw new ArgumentException(
                $"Training a product quantizer with {BitsPerSubquantizer} bits per subquantizer needs at least ksub = {ksub} vectors, got {count}. Provide more vectors.",
                nameof(count));
        }

        VectorChecks.EnsureFinite(data, Dimension, nameof(data));
        KMeansOptions settings = (options ?? new KMeansOptions()).Clone();
        settings.NumberOfClusters = ksub;
        int m = NumberOfSubquantizers;
        int dsub = SubDimension;
        var books = new float[Codebooks.Length];
        var sub = new float[checked(count * dsub)];
        int baseSeed = settings.Seed;
        for (int j = 0; j < m; j++)
        {
            ExtractSubvectors(data, count, j, sub);
            settings.Seed = unchecked(baseSeed + j);
            KMeansResult result = KMeans.TrainAtWidth(sub, count, dsub, settings, Width);
            result.Centroids.CopyTo(books.AsSpan(j * ksub * dsub, ksub * dsub));
        }

        SetCodebooks(books);
    }

    /// <summary>Encodes each vector as the index of the nearest centroid in every subspace.</summary>
    /// <param name="vectors">Vectors, row-major, size <paramref name="count"/> × <see cref="Dimension"/>.</param>
    /// <param name="count">Number of vectors.</param>
    /// <param name="codes">Output codes, size <paramref name="count"/> × <see cref="CodeSize"/>.</param>
    /// <param name="threads">Worker threads; 0 uses <see cref="Environment.ProcessorCount"/>. Results do not depend on it.</param>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    /// <exception cref="ArgumentException">A size does not match or a value is NaN or infinite.</exception>
    public unsafe void Encode(ReadOnlySpan<float> vectors, int count, Span<byte> codes, int threads = 0)
    {
        EnsureTrained();
        CheckVectors(vectors, count, nameof(vectors));
        if (codes.Length != (long)count * CodeSize)
        {
            throw new ArgumentException($"Expected count × CodeSize = {count} × {CodeSize} = {(long)count * CodeSize} code bytes, got {codes.Length}.", nameof(codes));
        }

        if (threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "Threads must be 0 (all cores) or positive.");
        }

        VectorChecks.EnsureFinite(vectors, Dimension, nameof(vectors));
        PackedBase[] books = GetPackedBooks();
        const int Block = 256;
        int m = NumberOfSubquantizers;
        int dsub = SubDimension;
        int d = Dimension;
        int blocks = (count + Block - 1) / Block;
        int blockColumns = AssignmentKernel.BlockColumns(books[0]);
        fixed (float* pVectors = vectors)
        fixed (byte* pCodes = codes)
        {
            nint vectorsAddress = (nint)pVectors;
            nint codesAddress = (nint)pCodes;
            ParallelBlocks.Run(
                blocks,
                ParallelBlocks.Resolve(threads),
                () => (Scratch: new AssignmentScratch(Block, dsub, blockColumns), Sub: new float[Block * dsub], Nearest: new int[Block], Distances: new float[Block]),
                (block, buffers) =>
                {
                    int first = block * Block;
                    int rows = Math.Min(Block, count - first);
                    var source = new ReadOnlySpan<float>((float*)vectorsAddress + ((long)first * d), rows * d);
                    var target = new Span<byte>((byte*)codesAddress + ((long)first * m), rows * m);
                    for (int j = 0; j < m; j++)
                    {
                        for (int i = 0; i < rows; i++)
                        {
                            source.Slice((i * d) + (j * dsub), dsub).CopyTo(buffers.Sub.AsSpan(i * dsub, dsub));
                        }

                        AssignmentKernel.AssignBlock(books[j], buffers.Sub.AsSpan(0, rows * dsub), rows, buffers.Nearest, buffers.Distances, buffers.Scratch, CancellationToken.None);
                        for (int i = 0; i < rows; i++)
                        {
                            target[(i * m) + j] = (byte)buffers.Nearest[i];
                        }
                    }
                },
                CancellationToken.None);
        }
    }

    /// <summary>Reconstructs each vector as the concatenation of its sub-codes' centroids.</summary>
    /// <param name="codes">Codes, size <paramref name="count"/> × <see cref="CodeSize"/>.</param>
    /// <param name="count">Number of codes.</param>
    /// <param name="vectors">Output vectors, row-major, size <paramref name="count"/> × <see cref="Dimension"/>.</param>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    /// <exception cref="ArgumentException">A size does not match.</exception>
    public void Decode(ReadOnlySpan<byte> codes, int count, Span<float> vectors)
    {
        EnsureTrained();
        CheckCodes(codes, count, nameof(codes));
        if (vectors.Length != (long)count * Dimension)
        {
            throw new ArgumentException($"Expected count × Dimension = {count} × {Dimension} = {(long)count * Dimension} output values, got {vectors.Length}.", nameof(vectors));
        }

        int m = NumberOfSubquantizers;
        int dsub = SubDimension;
        int ksub = CentroidsPerSubquantizer;
        for (int i = 0; i < count; i++)
        {
            for (int j = 0; j < m; j++)
            {
                int centroid = codes[(i * m) + j];
                Codebooks.AsSpan(((j * ksub) + centroid) * dsub, dsub).CopyTo(vectors.Slice((i * Dimension) + (j * dsub), dsub));
            }
        }
    }

    /// <summary>
    /// Fills the ADC table of <paramref name="query"/>: <c>table[j, c] = ‖q_j − C_j,c‖²</c>, the squared distance
    /// between the query's subvector j and centroid c of subspace j, layout (M, ksub).
    /// </summary>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    /// <exception cref="ArgumentException">A size does not match.</exception>
    public void ComputeDistanceTable(ReadOnlySpan<float> query, Span<float> table) => ComputeTable(query, table, innerProduct: false);

    /// <summary>
    /// Fills the inner-product table of <paramref name="query"/>: <c>table[j, c] = q_j · C_j,c</c>, layout (M, ksub),
    /// so that a code's table sum is the inner product of the query with the decoded vector.
    /// </summary>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    /// <exception cref="ArgumentException">A size does not match.</exception>
    public void ComputeInnerProductTable(ReadOnlySpan<float> query, Span<float> table) => ComputeTable(query, table, innerProduct: true);

    /// <summary>Returns the table sum of one code, <c>Σ_j table[j, code[j]]</c>, summed in subspace order.</summary>
    /// <param name="code">One code of <see cref="CodeSize"/> bytes.</param>
    /// <param name="table">A table from <see cref="ComputeDistanceTable"/> or <see cref="ComputeInnerProductTable"/>, M × ksub.</param>
    /// <exception cref="ArgumentException">A size does not match.</exception>
    public float ComputeAdcDistance(ReadOnlySpan<byte> code, ReadOnlySpan<float> table)
    {
        CheckCodes(code, 1, nameof(code));
        CheckTable(table);
        return PqKernels.ScoreCode(code, table);
    }

    /// <summary>
    /// Writes the table sum of each of <paramref name="count"/> codes into <paramref name="distances"/>, four codes
    /// per step. Results are bit-identical to <see cref="ComputeAdcDistance"/>. For a batch of queries over the same
    /// codes, <see cref="Indexes.PqIndex"/> scores one register's worth of queries per pass, which is several times faster.
    /// </summary>
    /// <param name="codes">Codes, size <paramref name="count"/> × <see cref="CodeSize"/>.</param>
    /// <param name="count">Number of codes.</param>
    /// <param name="table">Distance or inner-product table, M × ksub.</param>
    /// <param name="distances">Output, size at least <paramref name="count"/>.</param>
    /// <exception cref="ArgumentException">A size does not match.</exception>
    public void ScanCodes(ReadOnlySpan<byte> codes, int count, ReadOnlySpan<float> table, Span<float> distances)
    {
        CheckCodes(codes, count, nameof(codes));
        CheckTable(table);
        if (distances.Length < count)
        {
            throw new ArgumentException($"Expected at least count = {count} output values, got {distances.Length}.", nameof(distances));
        }

        PqKernels.ScanCodes(codes, count, NumberOfSubquantizers, table, distances, Width);
    }

    /// <summary>
    /// Returns the symmetric distance (SDC) between two codes: the squared distance between their decoded vectors,
    /// summed per subspace from precomputed centroid-to-centroid tables (M × ksub × ksub floats, built on the first call).
    /// </summary>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    /// <exception cref="ArgumentException">A code does not have <see cref="CodeSize"/> bytes.</exception>
    public float ComputeSymmetricDistance(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        EnsureTrained();
        CheckCodes(a, 1, nameof(a));
        CheckCodes(b, 1, nameof(b));
        float[] tables = GetSymmetricTables();
        int ksub = CentroidsPerSubquantizer;
        float sum = 0f;
        for (int j = 0; j < a.Length; j++)
        {
            sum += tables[(((j * ksub) + a[j]) * ksub) + b[j]];
        }

        return sum;
    }

    private void ComputeTable(ReadOnlySpan<float> query, Span<float> table, bool innerProduct)
    {
        EnsureTrained();
        if (query.Length != Dimension)
        {
            throw new ArgumentException($"Expected a query of Dimension = {Dimension} values, got {query.Length}.", nameof(query));
        }

        if (table.Length != TableLength)
        {
            throw new ArgumentException($"Expected a table of M × ksub = {NumberOfSubquantizers} × {CentroidsPerSubquantizer} = {TableLength} values, got {table.Length}.", nameof(table));
        }

        int ksub = CentroidsPerSubquantizer;
        int dsub = SubDimension;
        for (int j = 0; j < NumberOfSubquantizers; j++)
        {
            ReadOnlySpan<float> sub = query.Slice(j * dsub, dsub);
            for (int c = 0; c < ksub; c++)
            {
                ReadOnlySpan<float> centroid = Codebooks.AsSpan(((j * ksub) + c) * dsub, dsub);
                table[(j * ksub) + c] = innerProduct ? DistanceKernels.InnerProduct(sub, centroid, Width) : DistanceKernels.SquaredL2(sub, centroid, Width);
            }
        }
    }

    private void SetCodebooks(float[] books)
    {
        lock (_cacheLock)
        {
            Codebooks = books;
            _packedBooks = null;
            _symmetricTables = null;
            IsTrained = true;
        }
    }

    private PackedBase[] GetPackedBooks()
    {
        lock (_cacheLock)
        {
            if (_packedBooks is null || _packedBooks[0].Width != Width)
            {
                int ksub = CentroidsPerSubquantizer;
                int dsub = SubDimension;
                var books = new PackedBase[NumberOfSubquantizers];
                for (int j = 0; j < books.Length; j++)
                {
                    books[j] = PackedBase.Create(Codebooks.AsSpan(j * ksub * dsub, ksub * dsub), ksub, dsub, addSquaredNorms: true, Width);
                }

                _packedBooks = books;
            }

            return _packedBooks;
        }
    }

    private float[] GetSymmetricTables()
    {
        lock (_cacheLock)
        {
            if (_symmetricTables is null)
            {
                int ksub = CentroidsPerSubquantizer;
                int dsub = SubDimension;
                var tables = new float[checked(NumberOfSubquantizers * ksub * ksub)];
                for (int j = 0; j < NumberOfSubquantizers; j++)
                {
                    for (int a = 0; a < ksub; a++)
                    {
                        ReadOnlySpan<float> left = Codebooks.AsSpan(((j * ksub) + a) * dsub, dsub);
                        for (int b = 0; b < ksub; b++)
                        {
                            ReadOnlySpan<float> right = Codebooks.AsSpan(((j * ksub) + b) * dsub, dsub);
                            tables[(((j * ksub) + a) * ksub) + b] = DistanceKernels.SquaredL2(left, right, Width);
                        }
                    }
                }

                _symmetricTables = tables;
            }

            return _symmetricTables;
        }
    }

    private void ExtractSubvectors(ReadOnlySpan<float> data, int count, int j, Span<float> sub)
    {
        int dsub = SubDimension;
        for (int i = 0; i < count; i++)
        {
            data.Slice((i * Dimension) + (j * dsub), dsub).CopyTo(sub.Slice(i * dsub, dsub));
        }
    }

    private void EnsureTrained()
    {
        if (!IsTrained)
        {
            throw new InvalidOperationException("The product quantizer is not trained; call Train first or load a trained quantizer.");
        }
    }

    private void CheckVectors(ReadOnlySpan<float> vectors, int count, string parameterName)
    {
        if (count < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The vector count must be 0 or positive.");
        }

        if (vectors.Length != (long)count * Dimension)
        {
            throw new ArgumentException($"Expected count × Dimension = {count} × {Dimension} = {(long)count * Dimension} values, got {vectors.Length}.", parameterName);
        }
    }

    private void CheckCodes(ReadOnlySpan<byte> codes, int count, string parameterName)
    {
        if (count < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The code count must be 0 or positive.");
        }

        if (codes.Length != (long)count * CodeSize)
        {
            throw new ArgumentException($"Expected count × CodeSize = {count} × {CodeSize} = {(long)count * CodeSize} code bytes, got {codes.Length}.", parameterName);
        }
    }

    private void CheckTable(ReadOnlySpan<float> table)
    {
        if (table.Length != TableLength)
        {
            throw new ArgumentException($"Expected a table of M × ksub = {NumberOfSubquantizers} × {CentroidsPerSubquantizer} = {TableLength} values, got {table.Length}.", nameof(table));
        }
    }
}
