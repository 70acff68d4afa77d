namespace MLNetRetrieval.Indexes;

/// <summary>Id rules shared by the indexes: ids are 0 or greater (−1 marks padding in results) and unique.</summary>
internal static class IdChecks
{
    /// <summary>
    /// Checks a batch of new ids against the ids already stored (<paramref name="rowById"/>, for an
    /// index of <paramref name="count"/> rows) and against each other; the errors name both rows.
    /// </summary>
    public static void CheckNewIds(ReadOnlySpan<long> ids, IReadOnlyDictionary<long, int> rowById, int count, string parameterName)
    {
        var batch = new Dictionary<long, int>(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            long id = ids[i];
            if (id < 0)
            {
                throw new ArgumentOutOfRangeException(parameterName, id, $"Id at row {i} of the batch is negative; ids must be >= 0.");
            }

            if (rowById.TryGetValue(id, out int existing))
            {
                throw new ArgumentException($"Id {id} at row {i} of the batch (index row {count + i}) is already stored at index row {existing}; ids must be unique.", parameterName);
            }

            if (!batch.TryAdd(id, i))
            {
                throw new ArgumentException($"Id {id} appears at batch rows {batch[id]} and {i} (index rows {count + batch[id]} and {count + i}); ids must be unique.", parameterName);
            }
        }
    }
}
