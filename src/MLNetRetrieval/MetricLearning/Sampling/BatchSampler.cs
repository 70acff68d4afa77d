namespace MLNetRetrieval.MetricLearning.Sampling;

/// <summary>Draws the row indices of each batch of one epoch.</summary>
internal abstract class BatchSampler
{
    /// <summary>Number of batches in every epoch.</summary>
    public abstract int BatchesPerEpoch { get; }

    /// <summary>Returns the batches of the next epoch; each array contains row indices into the training rows.</summary>
    public abstract IReadOnlyList<int[]> NextEpoch();
}

/// <summary>
/// Shuffles the rows every epoch and cuts them into batches of the batch size. A last batch with fewer
/// than 2 rows is dropped, because batch normalisation needs two rows and a single row teaches pair losses nothing.
/// </summary>
internal sealed class ShuffledBatchSampler : BatchSampler
{
    private readonly int[] _order;
    private readonly int _batchSize;
    private readonly Random _random;

    public ShuffledBatchSampler(int rowCount, int batchSize, Random random)
    {
        _order = Enumerable.Range(0, rowCount).ToArray();
        _batchSize = batchSize;
        _random = random;
    }

    public override int BatchesPerEpoch => (_order.Length / _batchSize) + (_order.Length % _batchSize >= 2 ? 1 : 0);

    public override IReadOnlyList<int[]> NextEpoch()
    {
        _random.Shuffle(_order);
        var batches = new List<int[]>();
        for (int start = 0; start < _order.Length; start += _batchSize)
        {
            int length = Math.Min(_batchSize, _order.Length - start);
            if (length >= 2)
            {
                batches.Add(_order.AsSpan(start, length).ToArray());
            }
        }

        return batches;
    }
}

/// <summary>
/// Class-balanced P × K batches: each batch takes P distinct classes at random and K rows of each, so every
/// anchor has K − 1 positives in its batch. An epoch has ⌊rows / (P·K)⌋ batches (at least one).
/// </summary>
/// <remarks>
/// Rows of a class are drawn without replacement from a per-class shuffled queue that refills when it runs
/// out, so every row is seen about once per epoch. A class with fewer than K rows repeats rows within a batch.
/// </remarks>
internal sealed class ClassBalancedBatchSampler : BatchSampler
{
    private readonly int[][] _rowsByClass;
    private readonly int[] _cursor;
    private readonly int[] _classes;
    private readonly int _classesPerBatch;
    private readonly int _rowsPerClass;
    private readonly int _batchesPerEpoch;
    private readonly Random _random;

    /// <param name="labels">Class of each row, in [0, classCount).</param>
    /// <param name="classCount">Number of classes.</param>
    /// <param name="classesPerBatch">P; lowered to the number of classes that have rows.</param>
    /// <param name="rowsPerClass">K.</param>
    /// <param name="random">Seeded source of every choice.</param>
    public ClassBalancedBatchSampler(ReadOnlySpan<int> labels, int classCount, int classesPerBatch, int rowsPerClass, Random random)
    {
        var lists = new List<int>[classCount];
        for (int c = 0; c < classCount; c++)
        {
            lists[c] = [];
        }

        for (int i = 0; i < labels.Length; i++)
        {
            lists[labels[i]].Add(i);
        }

        _rowsByClass = lists.Where(list => list.Count > 0).Select(list => list.ToArray()).ToArray();
        _classes = Enumerable.Range(0, _rowsByClass.Length).ToArray();
        _cursor = new int[_rowsByClass.Length];
        _classesPerBatch = Math.Min(classesPerBatch, _rowsByClass.Length);
        _rowsPerClass = rowsPerClass;
        _batchesPerEpoch = Math.Max(1, labels.Length / (_classesPerBatch * rowsPerClass));
        _random = random;
        foreach (int[] rows in _rowsByClass)
        {
            _random.Shuffle(rows);
        }
    }

    public override int BatchesPerEpoch => _batchesPerEpoch;

    public override IReadOnlyList<int[]> NextEpoch()
    {
        var batches = new List<int[]>(_batchesPerEpoch);
        for (int b = 0; b < _batchesPerEpoch; b++)
        {
            // A partial Fisher–Yates shuffle picks P distinct classes.
            for (int i = 0; i < _classesPerBatch; i++)
            {
                int j = _random.Next(i, _classes.Length);
                (_classes[i], _classes[j]) = (_classes[j], _classes[i]);
            }

            var batch = new int[_classesPerBatch * _rowsPerClass];
            int filled = 0;
            for (int i = 0; i < _classesPerBatch; i++)
            {
                int c = _classes[i];
                int[] rows = _rowsByClass[c];
                for (int k = 0; k < _rowsPerClass; k++)
                {
                    if (_cursor[c] == rows.Length)
                    {
                        _random.Shuffle(rows);
                        _cursor[c] = 0;
                    }

                    batch[filled++] = rows[_cursor[c]++];
                }
            }

            batches.Add(batch);
        }

        return batches;
    }
}
