using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Decoded search states of this process, keyed by the string (or array) object that backs the
/// first text chunk of the stored state. A model loaded from a zip decodes its state on the first
/// scored row; <see cref="RetrievalCatalog.GetSearchers(Microsoft.ML.ITransformer)"/> reads the same
/// value-mapping object and so gets the same decoded state back, which makes search settings changed
/// on that searcher apply to the loaded pipeline too.
/// </summary>
/// <remarks>
/// Keys are object identities, not contents: two loads of the same zip decode separately, and a
/// damaged copy never borrows the state of an intact one. Entries live as long as the model's
/// value mapping keeps the chunk alive.
/// </remarks>
internal static class SearchStateCache
{
    private static readonly ConditionalWeakTable<object, SearchState> States = new();

    /// <summary>Returns the state cached for the object behind <paramref name="firstChunk"/>, or decodes and caches it.</summary>
    public static SearchState GetOrDecode(ReadOnlyMemory<char> firstChunk, Func<SearchState> decode)
    {
        object? key = BackingObject(firstChunk);
        if (key is null)
            return decode();
        if (States.TryGetValue(key, out SearchState? cached))
            return cached;

        // Decode outside any lock: a large state takes seconds. When two threads race, the first
        // stored state wins and the other decoded copy is dropped.
        SearchState decoded = decode();
        return States.GetValue(key, _ => decoded);
    }

    private static object? BackingObject(ReadOnlyMemory<char> memory)
    {
        if (MemoryMarshal.TryGetString(memory, out string? text, out _, out _))
            return text;
        if (MemoryMarshal.TryGetArray(memory, out ArraySegment<char> segment))
            return segment.Array;
        return MemoryMarshal.TryGetMemoryManager(memory, out MemoryManager<char>? manager) ? manager : null;
    }
}
