using System.Collections.Concurrent;
using MLNetRetrieval.Images.Decoding;

namespace MLNetRetrieval.Images;

public sealed partial class ImageEmbedder
{
    /// <summary>Embeds files, reporting failures instead of throwing for bad images.</summary>
    /// <param name="paths">Image files.</param>
    /// <param name="progress">Receives progress after each failed image and each model call, from the calling thread; may be null.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>The embeddings of the images that decoded, in input order, and the failures, in input order.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled; no partial result is returned.</exception>
    /// <remarks>
    /// <see cref="DecodeThreads"/> workers take the next file index from a shared counter, decode and preprocess it,
    /// and put the tensor into a bounded queue of about two model calls, so memory stays flat however long the
    /// list is. The calling thread takes tensors from the queue, runs the model on <see cref="ImagesPerRun"/> images
    /// at a time and writes each embedding at its input index, so the order of completion does not matter.
    /// </remarks>
    public EmbeddingBatchResult EmbedFiles(IReadOnlyList<string> paths, IProgress<EmbeddingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ObjectDisposedException.ThrowIf(_disposed, this);
        int total = paths.Count;
        int dimension = Dimension;
        var embeddings = new float[checked(total * dimension)];
        var embedded = new bool[total];
        var failures = new ImageFailure?[total];
        if (total == 0)
        {
            return new EmbeddingBatchResult(dimension, [], [], []);
        }

        int imagesPerRun = ImagesPerRun;
        int viewLength = Views * Preprocessing.TensorLength;
        using var queue = new BlockingCollection<PreparedImage>(boundedCapacity: Math.Max(2, 2 * imagesPerRun));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var freeBuffers = new ConcurrentBag<float[]>();
        int nextIndex = -1;
        int runningWorkers = Math.Min(DecodeThreads, total);
        Exception? workerError = null;

        void DecodeLoop()
        {
            try
            {
                int index;
                while (!stop.IsCancellationRequested && (index = Interlocked.Increment(ref nextIndex)) < total)
                {
                    queue.Add(Prepare(paths[index], index, freeBuffers, viewLength), stop.Token);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref workerError, e, null);
                stop.Cancel();
            }
            finally
            {
                if (Interlocked.Decrement(ref runningWorkers) == 0)
                {
                    queue.CompleteAdding();
                }
            }
        }

        var workers = new Thread[runningWorkers];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = new Thread(DecodeLoop) { IsBackground = true, Name = $"ImageEmbedder decode {w}" };
            workers[w].Start();
        }

        var batch = new List<PreparedImage>(imagesPerRun);
        var batchTensors = new float[imagesPerRun * viewLength];
        var batchOutputs = new float[imagesPerRun * Views * dimension];
        int done = 0;
        int failed = 0;
        try
        {
            foreach (PreparedImage item in queue.GetConsumingEnumerable(stop.Token))
            {
                if (item.Failure is not null)
                {
                    failures[item.Index] = item.Failure;
                    failed++;
                    done++;
                    progress?.Report(new EmbeddingProgress(done, total, failed));
                    continue;
                }

                batch.Add(item);
                if (batch.Count == imagesPerRun)
                {
                    done += RunBatch(batch, batchTensors, batchOutputs, embeddings, embedded, freeBuffers);
                    progress?.Report(new EmbeddingProgress(done, total, failed));
                }
            }

            if (batch.Count > 0)
            {
                done += RunBatch(batch, batchTensors, batchOutputs, embeddings, embedded, freeBuffers);
                progress?.Report(new EmbeddingProgress(done, total, failed));
            }
        }
        catch (OperationCanceledException) when (workerError is not null && !cancellationToken.IsCancellationRequested)
        {
            // A worker cancelled the run; its exception is raised below.
        }
        finally
        {
            stop.Cancel();
            foreach (Thread worker in workers)
            {
                worker.Join();
            }
        }

        if (workerError is not null)
        {
            throw new InvalidOperationException($"A decoding worker failed: {workerError.Message}", workerError);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return Collect(embeddings, embedded, failures, dimension);
    }

    private PreparedImage Prepare(string path, int index, ConcurrentBag<float[]> freeBuffers, int viewLength)
    {
        // One image must not end the whole pass, so an unexpected exception becomes that image's failure.
        try
        {
            return PrepareOrThrow(path, index, freeBuffers, viewLength);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            ImageFailureKind kind = e is IOException or UnauthorizedAccessException ? ImageFailureKind.Unreadable : ImageFailureKind.Corrupt;
            var failure = new ImageFailure(path ?? string.Empty, kind, $"The image '{path}' could not be decoded: {e.GetType().Name}: {e.Message}");
            return new PreparedImage(index, null, failure);
        }
    }

    private PreparedImage PrepareOrThrow(string path, int index, ConcurrentBag<float[]> freeBuffers, int viewLength)
    {
        if (!ImageDecoder.TryDecodeRgba(path, _decoderOptions, out RgbaImage? image, out ImageFailure? failure))
        {
            return new PreparedImage(index, null, failure);
        }

        using (image)
        {
            if (!freeBuffers.TryTake(out float[]? tensors))
            {
                tensors = new float[viewLength];
            }

            WriteViews(image, tensors);
            return new PreparedImage(index, tensors, null);
        }
    }

    private int RunBatch(List<PreparedImage> batch, float[] batchTensors, float[] batchOutputs, float[] embeddings, bool[] embedded, ConcurrentBag<float[]> freeBuffers)
    {
        int viewLength = Views * Preprocessing.TensorLength;
        for (int i = 0; i < batch.Count; i++)
        {
            batch[i].Tensors!.CopyTo(batchTensors, i * viewLength);
            freeBuffers.Add(batch[i].Tensors!);
        }

        Infer(batchTensors, batch.Count * Views, batchOutputs);
        int dimension = Dimension;
        for (int i = 0; i < batch.Count; i++)
        {
            int index = batch[i].Index;
            Finish(batchOutputs.AsSpan(i * Views * dimension, Views * dimension), embeddings.AsSpan(index * dimension, dimension));
            embedded[index] = true;
        }

        int count = batch.Count;
        batch.Clear();
        return count;
    }

    private static EmbeddingBatchResult Collect(float[] embeddings, bool[] embedded, ImageFailure?[] failures, int dimension)
    {
        int rows = embedded.Count(e => e);
        var vectors = new float[rows * dimension];
        var sourceIndices = new int[rows];
        var failureList = new List<ImageFailure>(embedded.Length - rows);
        int row = 0;
        for (int i = 0; i < embedded.Length; i++)
        {
            if (embedded[i])
            {
                embeddings.AsSpan(i * dimension, dimension).CopyTo(vectors.AsSpan(row * dimension));
                sourceIndices[row++] = i;
            }
            else if (failures[i] is { } failure)
            {
                failureList.Add(failure);
            }
        }

        return new EmbeddingBatchResult(dimension, vectors, sourceIndices, failureList);
    }

    private readonly record struct PreparedImage(int Index, float[]? Tensors, ImageFailure? Failure);
}
