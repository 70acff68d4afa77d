using System.Numerics.Tensors;
using MLNetRetrieval.Kernels;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Indexes;

// Distance tables. With residual encoding, a stored vector is c + y_R (centroid plus decoded residual), and
//   ‖q − c − y_R‖² = ‖q − c‖²  +  (‖y_R‖² + 2⟨c, y_R⟩)  −  2⟨q, y_R⟩
//                    coarse       depends on (list, code)   depends on (query, code)
// Each term splits over the M subspaces. The coarse term comes free with probing. The middle term does not depend
// on the query, so it is tabulated once per index, as FAISS's precomputed table is. Here ‖C_j,c‖² moves into the
// query term, so the index table keeps 2⟨c_l,j, C_j,c⟩ (nlist × M × ksub floats). The query term is one M × ksub
// table per query, d × ksub multiply-adds once. A (query, list) table is then one vector add of M × ksub floats instead of
// d × ksub multiply-adds for a table of the residual q − c: dsub = d / M times less work per probed list (49 at
// d = 784, M = 16). With UsePrecomputedTable off, the residual table is computed directly for every probed list.
public sealed partial class IvfPqIndex
{
    /// <summary>Largest number of queries in one worker block, the unit of threading and progress.</summary>
    private const int MaxBlock = 64;

    /// <summary>One search call split into blocks of queries that worker threads take in turn; each query is scanned alone.</summary>
    private sealed unsafe class SearchJob
    {
        private readonly IvfPqIndex _index;
        private readonly float[] _queries;
        private readonly int _queryCount;
        private readonly int _k;
        private readonly int _nprobe;
        private readonly int _candidates;
        private readonly IvfSearchParameters _parameters;
        private readonly int _threads;
        private readonly int _blockSize;
        private readonly PackedBase _centroids;
        private readonly PackedBase[] _books;
        private readonly float[]? _precomputed;
        private int _queriesDone;

        public SearchJob(IvfPqIndex index, float[] queries, int queryCount, int k, int nprobe, IvfSearchParameters parameters)
        {
            _index = index;
            _queries = queries;
            _queryCount = queryCount;
            _k = k;
            _nprobe = nprobe;
            _candidates = parameters.RerankCount > 0 ? parameters.RerankCount : k;
            _parameters = parameters;
            _threads = IvfChecks.Threads(parameters);
            _blockSize = IvfChecks.BlockSize(queryCount, _threads, MaxBlock);
            _centroids = index._coarse.GetPacked(index.Width);
            _books = index.GetPackedBooks();
            _precomputed = index.EncodeResiduals && index.UsePrecomputedTable ? index.GetPrecomputedTable() : null;
            ResultIds = new long[(long)queryCount * k];
            ResultDistances = new float[(long)queryCount * k];
        }

        public long[] ResultIds { get; }

        public float[] ResultDistances { get; }

        public void Run()
        {
            int blocks = (_queryCount + _blockSize - 1) / _blockSize;
            ParallelBlocks.Run(blocks, _threads, () => new Scratch(this), SearchBlock, _parameters.CancellationToken);
        }

        private void SearchBlock(int block, Scratch scratch)
        {
            int d = _index.Dimension;
            int first = block * _blockSize;
            int rows = Math.Min(_blockSize, _queryCount - first);
            ReadOnlySpan<float> queries = _queries.AsSpan(first * d, rows * d);
            for (int q = 0; q < rows; q++)
            {
                scratch.Norms[q] = GemmKernel.SquaredNormChain(queries.Slice(q * d, d));
            }

            _index._coarse.Probe(_centroids, queries, rows, scratch.Norms, _nprobe, scratch.Probes, scratch.ProbeDistances, scratch.Probe, _parameters.CancellationToken);
            ReadOnlySpan<long> excluded = _parameters.ExcludedIds.Span;
            for (int q = 0; q < rows; q++)
            {
                long skip = excluded.IsEmpty ? -1 : excluded[first + q];
                int result = (first + q) * _k;
                SearchOne(queries.Slice(q * d, d), scratch.Probes.AsSpan(q * _nprobe, _nprobe), scratch.ProbeDistances.AsSpan(q * _nprobe, _nprobe), skip, scratch, ResultDistances.AsSpan(result, _k), ResultIds.AsSpan(result, _k));
            }

            int done = Interlocked.Add(ref _queriesDone, rows);
            _parameters.Progress?.Report(new SearchProgress(done, _queryCount));
        }

        private void SearchOne(ReadOnlySpan<float> query, ReadOnlySpan<int> probes, ReadOnlySpan<float> probeDistances, long excluded, Scratch scratch, Span<float> outDistances, Span<long> outIds)
        {
            ProductQuantizer pq = _index.Quantizer;
            int m = pq.NumberOfSubquantizers;
            int ksub = pq.CentroidsPerSubquantizer;
            int tableLength = m * ksub;
            int d = _index.Dimension;
            if (!_index.EncodeResiduals)
            {
                FillTable(query, scratch.Table, scratch);
            }
            else if (_precomputed is not null)
            {
                FillQueryTerm(query, scratch.QueryTerm);
            }

            int count = 0;
            Span<float> heapDistances = scratch.HeapDistances;
            Span<long> heapIds = scratch.HeapIds;
            for (int p = 0; p < probes.Length; p++)
            {
                int list = probes[p];
                int size = _index._lists.Size(list);
                if (size == 0)
                {
                    continue;
                }

                _parameters.CancellationToken.ThrowIfCancellationRequested();
                if (_index.EncodeResiduals && _precomputed is not null)
                {
                    TensorPrimitives.Add(_precomputed.AsSpan(list * tableLength, tableLength), scratch.QueryTerm, scratch.Table);
                    TensorPrimitives.Add(scratch.Table.AsSpan(0, ksub), probeDistances[p], scratch.Table.AsSpan(0, ksub));
                }
                else if (_index.EncodeResiduals)
                {
                    TensorPrimitives.Subtract(query, _index._coarse.Centroids.AsSpan(list * d, d), scratch.Residual);
                    FillTable(scratch.Residual, scratch.Table, scratch);
                }

                float[] scores = scratch.ScoresFor(size);
                PqKernels.ScanCodes(_index._lists.Codes(list), size, m, scratch.Table, scores, _index.Width);
                TopK.PushRow(scores.AsSpan(0, size), _index._lists.Ids(list), excluded, heapDistances, heapIds, ref count, _index.Width);
            }

            if (_parameters.RerankCount == 0)
            {
                TopK.Drain(heapDistances, heapIds, ref count, outDistances, outIds);
                return;
            }

            // Re-rank: exact squared distances to the stored vectors of the ADC candidates.
            TopK.Drain(heapDistances, heapIds, ref count, scratch.CandidateDistances, scratch.CandidateIds);
            int kept = 0;
            Span<float> finalDistances = heapDistances.Slice(0, _k);
            Span<long> finalIds = heapIds.Slice(0, _k);
            foreach (long id in scratch.CandidateIds)
            {
                if (id < 0)
                {
                    break;
                }

                _index._lists.TryGetLocation(id, out int list, out int position);
                float exact = DistanceKernels.SquaredL2(query, _index._lists.Vectors(list).Slice(position * d, d), _index.Width);
                TopK.Push(finalDistances, finalIds, ref kept, exact, id);
            }

            TopK.Drain(finalDistances, finalIds, ref kept, outDistances, outIds);
        }

        /// <summary>Fills the ADC table of <paramref name="vector"/>, <c>table[j, c] = ‖v_j − C_j,c‖²</c>, layout (M, ksub).</summary>
        private void FillTable(ReadOnlySpan<float> vector, Span<float> table, Scratch scratch)
        {
            int dsub = _index.Quantizer.SubDimension;
            for (int j = 0; j < _books.Length; j++)
            {
                ReadOnlySpan<float> sub = vector.Slice(j * dsub, dsub);
                FillSubspace(j, sub, GemmKernel.SquaredNormChain(sub), clampAtZero: true, table);
            }
        }

        /// <summary>Fills the query term of the split, <c>T[j, c] = ‖C_j,c‖² − 2⟨q_j, C_j,c⟩</c>, layout (M, ksub).</summary>
        private void FillQueryTerm(ReadOnlySpan<float> query, Span<float> table)
        {
            int dsub = _index.Quantizer.SubDimension;
            for (int j = 0; j < _books.Length; j++)
            {
                FillSubspace(j, query.Slice(j * dsub, dsub), 0f, clampAtZero: false, table);
            }
        }

        private void FillSubspace(int j, ReadOnlySpan<float> sub, float rowTerm, bool clampAtZero, Span<float> table)
        {
            PackedBase book = _books[j];
            int ksub = book.Count;
            int panels = ksub / book.PanelWidth;
            fixed (float* pSub = sub, pPanels = book.Panels, pTerms = book.ColumnTerms, pTable = table)
            {
                SingleQueryKernel.Distances(book.Width, pSub, sub.Length, rowTerm, pPanels, panels, pTerms, -2f, clampAtZero, pTable + (j * ksub));
            }
        }

        /// <summary>Per-thread buffers.</summary>
        private sealed class Scratch
        {
            private float[] _scores = Array.Empty<float>();

            public Scratch(SearchJob job)
            {
                int tableLength = job._index.Quantizer.NumberOfSubquantizers * job._index.Quantizer.CentroidsPerSubquantizer;
                Norms = new float[job._blockSize];
                Probes = new int[job._blockSize * job._nprobe];
                ProbeDistances = new float[job._blockSize * job._nprobe];
                Probe = new ProbeScratch(job._centroids, job._nprobe);
                Table = new float[tableLength];
                QueryTerm = new float[tableLength];
                Residual = new float[job._index.Dimension];
                HeapDistances = new float[job._candidates];
                HeapIds = new long[job._candidates];
                CandidateDistances = new float[job._candidates];
                CandidateIds = new long[job._candidates];
            }

            public float[] Norms { get; }

            public int[] Probes { get; }

            public float[] ProbeDistances { get; }

            public ProbeScratch Probe { get; }

            /// <summary>Distance table of the current (query, list) pair, layout (M, ksub).</summary>
            public float[] Table { get; }

            /// <summary>Query term of the precomputed split, layout (M, ksub).</summary>
            public float[] QueryTerm { get; }

            public float[] Residual { get; }

            public float[] HeapDistances { get; }

            public long[] HeapIds { get; }

            public float[] CandidateDistances { get; }

            public long[] CandidateIds { get; }

            /// <summary>Returns a buffer of at least <paramref name="length"/> floats for the ADC distances of one list.</summary>
            public float[] ScoresFor(int length)
            {
                if (_scores.Length < length)
                {
                    _scores = new float[Math.Max(length, _scores.Length * 2)];
                }

                return _scores;
            }
        }
    }
}
