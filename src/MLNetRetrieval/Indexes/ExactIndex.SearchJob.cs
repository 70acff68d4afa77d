using MLNetRetrieval.Kernels;

namespace MLNetRetrieval.Indexes;

public sealed partial class ExactIndex
{
    /// <summary>One search call split into query blocks that worker threads take in turn.</summary>
    private sealed class SearchJob
    {
        private readonly ExactIndex _index;
        private readonly PackedBase _packed;
        private readonly float[] _queries;
        private readonly float[] _rowTerms;
        private readonly int _queryCount;
        private readonly int _k;
        private readonly SearchParameters _parameters;
        private readonly int _threads;
        private readonly int _blockSize;
        private readonly long[] _resultIds;
        private readonly float[] _resultDistances;
        private int _queriesDone;

        public SearchJob(ExactIndex index, PackedBase packed, float[] queries, float[] rowTerms, int queryCount, int k, SearchParameters parameters)
        {
            _index = index;
            _packed = packed;
            _queries = queries;
            _rowTerms = rowTerms;
            _queryCount = queryCount;
            _k = k;
            _parameters = parameters;
            _threads = parameters.Threads == 0 ? Environment.ProcessorCount : parameters.Threads;

            // Give every thread work, but keep blocks big enough to reuse each cached block of the base.
            int perThread = (queryCount + _threads - 1) / _threads;
            _blockSize = Math.Clamp(perThread, 1, MaxQueryBlock);
            _resultIds = new long[(long)queryCount * k];
            _resultDistances = new float[(long)queryCount * k];
        }

        public void Run(Span<long> ids, Span<float> distances)
        {
            int blocks = (_queryCount + _blockSize - 1) / _blockSize;
            if (_threads == 1 || blocks == 1)
            {
                var scratch = CreateScratch();
                for (int block = 0; block < blocks; block++)
                {
                    SearchOne(block, scratch);
                }
            }
            else
            {
                var options = new ParallelOptions { MaxDegreeOfParallelism = _threads, CancellationToken = _parameters.CancellationToken };
                try
                {
                    Parallel.For(0, blocks, options, CreateScratch, (block, _, scratch) =>
                    {
                        SearchOne(block, scratch);
                        return scratch;
                    }, _ => { });
                }
                catch (AggregateException error) when (error.InnerExceptions.All(inner => inner is OperationCanceledException))
                {
                    throw new OperationCanceledException(_parameters.CancellationToken);
                }
            }

            _resultIds.CopyTo(ids);
            _resultDistances.CopyTo(distances);
        }

        private ExactSearchScratch CreateScratch()
        {
            int blockColumns = GemmKernel.BlockColumns(_index.Dimension, _index.KcMax, _packed.PanelWidth);
            return new ExactSearchScratch(_blockSize, _index.Dimension, blockColumns, _k);
        }

        private void SearchOne(int block, ExactSearchScratch scratch)
        {
            int first = block * _blockSize;
            int rows = Math.Min(_blockSize, _queryCount - first);
            int d = _index.Dimension;
            ReadOnlySpan<long> excluded = _parameters.ExcludedIds.Span;
            ExactSearchKernel.SearchBlock(
                _packed,
                _index._ids.AsSpan(0, _packed.Count),
                _queries.AsSpan(first * d, rows * d),
                rows,
                _rowTerms.AsSpan(first, rows),
                _index.Form,
                excluded.IsEmpty ? excluded : excluded.Slice(first, rows),
                _k,
                _resultDistances.AsSpan(first * _k, rows * _k),
                _resultIds.AsSpan(first * _k, rows * _k),
                scratch,
                _index.KcMax,
                _parameters.CancellationToken);

            int done = Interlocked.Add(ref _queriesDone, rows);
            _parameters.Progress?.Report(new SearchProgress(done, _queryCount));
        }
    }
}
