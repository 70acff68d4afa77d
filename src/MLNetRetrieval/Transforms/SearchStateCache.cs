namespace MLNetRetrieval.Transforms;

/// <summary>
/// Decoded search states of this process, keyed by their payload header (which carries the SHA-256
/// of the state). A model loaded from a zip decodes its state on the first scored row; the searcher
/// that <see cref="RetrievalCatalog.GetSearchers(Microsoft.ML.ITransformer)"/> returns for that model
/// is the same object, so search settings changed on it apply to the loaded pipeline too.
/// </summary>
/// <remarks>
/// Entries are weak: a state lives as long as a transformer, mapping or searcher holds it. Two
/// models with byte-identical states share one decoded state, and with it their search settings.
/// </remarks>
internal static class SearchStateCache
{
    private static readonly Dictionary<string, WeakReference<SearchState>> States = new(StringComparer.Ordinal);

    /// <summary>Returns the state cached under <paramref name="header"/>, or decodes and caches it.</summary>
    public static SearchState GetOrDecode(string header, Func<SearchState> decode)
    {
        lock (States)
        {
            if (States.TryGetValue(header, out var reference) && reference.TryGetTarget(out SearchState? cached))
                return cached;
        }

        // Decode outside the lock: a large state takes seconds. Two threads may both decode; the
        // first to store wins and the other's copy is dropped.
        SearchState decoded = decode();
        return Add(header, decoded);
    }

    /// <summary>Stores <paramref name="state"/> under <paramref name="header"/> unless a live state is already there; returns the one kept.</summary>
    public static SearchState Add(string header, SearchState state)
    {
        lock (States)
        {
            if (States.TryGetValue(header, out var reference) && reference.TryGetTarget(out SearchState? cached))
                return cached;
            States[header] = new WeakReference<SearchState>(state);
            if (States.Count > 64)
                RemoveDeadEntries();
            return state;
        }
    }

    private static void RemoveDeadEntries()
    {
        foreach (string key in States.Where(pair => !pair.Value.TryGetTarget(out _)).Select(pair => pair.Key).ToList())
            States.Remove(key);
    }
}
