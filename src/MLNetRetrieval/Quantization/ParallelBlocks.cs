namespace MLNetRetrieval.Quantization;

/// <summary>Runs numbered blocks of work on worker threads, each thread with its own scratch object.</summary>
internal static class ParallelBlocks
{
    /// <summary>Returns the worker count for a <c>Threads</c> setting: 0 means <see cref="Environment.ProcessorCount"/>.</summary>
    public static int Resolve(int threads) => threads == 0 ? Environment.ProcessorCount : threads;

    /// <summary>
    /// Calls <paramref name="body"/> once for every block in [0, <paramref name="blocks"/>), on up to
    /// <paramref name="threads"/> threads, and rethrows a cancellation as one <see cref="OperationCanceledException"/>.
    /// </summary>
    public static void Run<TScratch>(int blocks, int threads, Func<TScratch> createScratch, Action<int, TScratch> body, CancellationToken cancellationToken)
    {
        if (threads <= 1 || blocks <= 1)
        {
            TScratch scratch = createScratch();
            for (int block = 0; block < blocks; block++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                body(block, scratch);
            }

            return;
        }

        var options = new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken };
        try
        {
            Parallel.For(0, blocks, options, createScratch, (block, _, scratch) =>
            {
                body(block, scratch);
                return scratch;
            }, _ => { });
        }
        catch (AggregateException error) when (error.InnerExceptions.All(inner => inner is OperationCanceledException))
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }
}
