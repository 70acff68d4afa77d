using MLNetRetrieval.Kernels;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Indexes;

public sealed partial class IvfFlatIndex
{
    /// <summary>Largest number of queries one worker groups by list at a time; larger chunks share list reads better.</summary>
    private const int MaxChunk = 4096;

    /// <summary>Largest number of queries scored against one list by one GEMM call.</summary>
    private const int MaxGroup = 256;

    /// <summary>Smallest group that goes through the GEMM; below it the one-query kernel wastes less work.</summary>
    private const int MinGemmGroup = 4;

    /// <summary>
    /// One search call split into chunks of queries that worker threads take in turn. A chunk probes its queries,
    /// groups them by list, scores each list's group, and drains one heap per query.
    /// </summary>
    private sealed unsafe class SearchJob
    {
        private readonly IvfFlatIndex _index;
        private readonly float[] _queries;
        private readonly int _queryCount;
        private readonly int _k;
        private readonly int _nprobe;
        private readonly IvfSearchParameters _parameters;
        private readonly int _threads;
        private readonly int _chunkSize;
        private readonly PackedBase _centroids;
        private readonly PackedBase?[] _packedLists;
        private int _queriesDone;

        public SearchJob(IvfFlatIndex index, float[] queries, int queryCount, int k, int nprobe, IvfSearchParameters parameters)
        {
            _index = index;
            _queries = queries;
            _queryCount = queryCount;
            _k = k;
            _nprobe = nprobe;
            _parameters = parameters;
            _threads = IvfChecks.Threads(parameters);
            _chunkSize = IvfChecks.BlockSize(queryCount, _threads, MaxChunk);
            _centroids = index._coarse.GetPacked(index.Width);
            _packedLists = index.GetPackedLists();
            ResultIds = new long[(long)queryCount * k];
            ResultDistances = new float[(long)queryCount * k];
        }

        public long[] ResultIds { get; }

        public float[] ResultDistances { get; }

        public void Run()
        {
            int chunks = (_queryCount + _chunkSize - 1) / _chunkSize;
            ParallelBlocks.Run(chunks, _threads, () => new Scratch(this), SearchChunk, _parameters.CancellationToken);
        }

        private void SearchChunk(int chunk, Scratch scratch)
        {
            int d = _index.Dimension;
            int first = chunk * _chunkSize;
            int rows = Math.Min(_chunkSize, _queryCount - first);
            ReadOnlySpan<float> queries = _queries.AsSpan(first * d, rows * d);
            var norms = new float[rows];
            for (int q = 0; q < rows; q++)
            {
                norms[q] = GemmKernel.SquaredNormChain(queries.Slice(q * d, d));
            }

            var probes = new int[rows * _nprobe];
            _index._coarse.Probe(_centroids, queries, rows, norms, _nprobe, probes, new float[rows * _nprobe], scratch.Probe, _parameters.CancellationToken);

            // Counting sort of (query, list) pairs by list; within a list, queries stay in query order.
            int nlist = _index.NumberOfLists;
            var starts = new int[nlist + 1];
            foreach (int list in probes)
            {
                starts[list + 1]++;
            }

            for (int list = 0; list < nlist; list++)
            {
                starts[list + 1] += starts[list];
            }

            var members = new int[probes.Length];
            var fill = (int[])starts.Clone();
            for (int i = 0; i < probes.Length; i++)
            {
                members[fill[probes[i]]++] = i / _nprobe;
            }

            var heapDistances = new float[rows * _k];
            var heapIds = new long[rows * _k];
            var counts = new int[rows];
            ReadOnlySpan<long> excludedAll = _parameters.ExcludedIds.Span;
            var excluded = new long[rows];
            for (int q = 0; q < rows; q++)
            {
                excluded[q] = excludedAll.IsEmpty ? -1 : excludedAll[first + q];
            }

            var heaps = new Heaps(heapDistances, heapIds, counts, excluded, _k);
            for (int list = 0; list < nlist; list++)
            {
                PackedBase? packed = _packedLists[list];
                if (packed is null || starts[list] == starts[list + 1])
                {
                    continue;
                }

                _parameters.CancellationToken.ThrowIfCancellationRequested();
                ReadOnlySpan<long> listIds = _index._lists.Ids(list);
                for (int g = starts[list]; g < starts[list + 1]; g += MaxGroup)
                {
                    ReadOnlySpan<int> group = members.AsSpan(g, Math.Min(MaxGroup, starts[list + 1] - g));
                    if (group.Length >= MinGemmGroup)
                    {
                        ScoreGroup(packed, listIds, queries, norms, group, heaps, scratch);
                    }
                    else
                    {
                        foreach (int q in group)
                        {
                            ScoreOne(packed, listIds, queries.Slice(q * d, d), norms[q], q, heaps, scratch);
                        }
                    }
                }
            }

            for (int q = 0; q < rows; q++)
            {
                int result = (first + q) * _k;
                TopK.Drain(heapDistances.AsSpan(q * _k, _k), heapIds.AsSpan(q * _k, _k), ref counts[q], ResultDistances.AsSpan(result, _k), ResultIds.AsSpan(result, _k));
            }

            int done = Interlocked.Add(ref _queriesDone, rows);
            _parameters.Progress?.Report(new SearchProgress(done, _queryCount));
        }

        /// <summary>Scores the queries of <paramref name="group"/> against one list with the GEMM, one block of list rows at a time.</summary>
        private void ScoreGroup(PackedBase packed, ReadOnlySpan<long> listIds, ReadOnlySpan<float> queries, float[] norms, ReadOnlySpan<int> group, Heaps heaps, Scratch scratch)
        {
            int d = _index.Dimension;
            int rows = group.Length;
            scratch.EnsureGemmBuffers();
            for (int r = 0; r < rows; r++)
            {
                queries.Slice(group[r] * d, d).CopyTo(scratch.Gathered.AsSpan(r * d, d));
                scratch.RowTerms[r] = norms[group[r]];
            }

            int aPanels = (rows + GemmKernel.TileRows - 1) / GemmKernel.TileRows;
            scratch.RowTerms.AsSpan(rows, (aPanels * GemmKernel.TileRows) - rows).Clear();
            GemmKernel.PackPanels(scratch.Gathered.AsSpan(0, rows * d), rows, d, GemmKernel.TileRows, scratch.PackedQueries);
            int panelWidth = packed.PanelWidth;
            int blockColumns = scratch.BlockColumns;
            fixed (float* pa = scratch.PackedQueries, pb = packed.Panels, pTerms = scratch.RowTerms, pColumnTerms = packed.ColumnTerms, pTile = scratch.Tile)
            {
                for (int j0 = 0; j0 < packed.Count; j0 += blockColumns)
                {
                    int columns = Math.Min(blockColumns, packed.Count - j0);
                    int bPanels = (columns + panelWidth - 1) / panelWidth;
                    var epilogue = new DistanceEpilogue { RowTerms = pTerms, ColumnTerms = pColumnTerms + j0, DotScale = -2f, ClampAtZero = true };
                    GemmKernel.ComputeBlock(packed.Width, pa, aPanels, pb + ((long)j0 * d), bPanels, d, GemmKernel.DefaultKc, pTile, blockColumns, &epilogue);
                    ReadOnlySpan<long> blockIds = listIds.Slice(j0, columns);
                    for (int r = 0; r < rows; r++)
                    {
                        heaps.PushRow(group[r], new ReadOnlySpan<float>(pTile + ((long)r * blockColumns), columns), blockIds, packed.Width);
                    }
                }
            }
        }

        /// <summary>Scores one query against one list with <see cref="SingleQueryKernel"/>, which gives the same distances as the GEMM.</summary>
        private void ScoreOne(PackedBase packed, ReadOnlySpan<long> listIds, ReadOnlySpan<float> query, float norm, int q, Heaps heaps, Scratch scratch)
        {
            int panels = (packed.Count + packed.PanelWidth - 1) / packed.PanelWidth;
            float[] row = scratch.RowFor(panels * packed.PanelWidth);
            fixed (float* pQuery = query, pPanels = packed.Panels, pTerms = packed.ColumnTerms, pRow = row)
            {
                SingleQueryKernel.Distances(packed.Width, pQuery, _index.Dimension, norm, pPanels, panels, pTerms, -2f, clampAtZero: true, pRow);
            }

            heaps.PushRow(q, row.AsSpan(0, packed.Count), listIds, packed.Width);
        }

        /// <summary>Per-thread buffers.</summary>
        private sealed class Scratch
        {
            private float[] _row = Array.Empty<float>();

            public Scratch(SearchJob job)
            {
                Dimension = job._index.Dimension;
                int panelWidth = GemmKernel.PanelWidth(job._index.Width);
                BlockColumns = GemmKernel.BlockColumns(Dimension, GemmKernel.DefaultKc, panelWidth);
                Probe = new ProbeScratch(job._centroids, job._nprobe);
            }

            public int Dimension { get; }

            public int BlockColumns { get; }

            /// <summary>Query rows of one group, row-major, before packing; null until the first GEMM group.</summary>
            public float[]? Gathered { get; private set; }

            public float[]? PackedQueries { get; private set; }

            public float[]? RowTerms { get; private set; }

            public float[]? Tile { get; private set; }

            public ProbeScratch Probe { get; }

            /// <summary>Creates the GEMM buffers on first use, so that one-query searches do not allocate them.</summary>
            [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(Gathered), nameof(PackedQueries), nameof(RowTerms), nameof(Tile))]
            public void EnsureGemmBuffers()
            {
                int rows = (MaxGroup + GemmKernel.TileRows - 1) / GemmKernel.TileRows * GemmKernel.TileRows;
                Gathered ??= new float[checked(MaxGroup * Dimension)];
                PackedQueries ??= new float[checked(rows * Dimension)];
                RowTerms ??= new float[rows];
                Tile ??= new float[checked(rows * BlockColumns)];
            }

            /// <summary>Returns a buffer of at least <paramref name="length"/> floats for one query's distances to a list.</summary>
            public float[] RowFor(int length)
            {
                if (_row.Length < length)
                {
                    _row = new float[Math.Max(length, _row.Length * 2)];
                }

                return _row;
            }
        }
    }

    /// <summary>One top-k heap per query of a chunk, layout (queries, k), with each query's excluded id.</summary>
    private readonly record struct Heaps(float[] Distances, long[] Ids, int[] Counts, long[] Excluded, int K)
    {
        public void PushRow(int q, ReadOnlySpan<float> row, ReadOnlySpan<long> rowIds, VectorWidth width) =>
            TopK.PushRow(row, rowIds, Excluded[q], Distances.AsSpan(q * K, K), Ids.AsSpan(q * K, K), ref Counts[q], width);
    }
}
