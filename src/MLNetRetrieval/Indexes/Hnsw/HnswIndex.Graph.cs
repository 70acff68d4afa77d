using System.Collections.Concurrent;
using System.Diagnostics;
using MLNetRetrieval.Kernels;

namespace MLNetRetrieval.Indexes;

// Graph construction and the layer search shared by insertion and queries.
public sealed partial class HnswIndex
{
    /// <summary>Nodes inserted without a parent in the layer-0 tree; adopted when the insert batch ends.</summary>
    private readonly ConcurrentQueue<int> _orphans = new();

    /// <summary>Cache lines prefetched at the start of a vector (4 lines = 64 floats); the hardware prefetcher streams the rest.</summary>
    // NOTE: 4 was measured only against no prefetch, on 784-d Fashion-MNIST; other counts were not compared.
    private const int RowPrefetchLines = 4;

    /// <summary>
    /// Inserts rows [<paramref name="start"/>, <paramref name="end"/>) on <paramref name="workers"/> threads, which take the
    /// next row in turn, and returns the end of the inserted prefix: <paramref name="end"/>, or less after cancellation.
    /// Rows are claimed in order and a claimed row is always finished, so the inserted rows form a prefix.
    /// </summary>
    private int InsertRows(int start, int end, int workers, IProgress<HnswAddProgress>? progress, CancellationToken token)
    {
        var watch = Stopwatch.StartNew();
        int total = end - start;
        int step = Math.Max(1, total / 100);
        int first = start;
        HnswScratch scratch = RentScratch();
        try
        {
            if (workers <= 1 || total < 2)
            {
                int row = start;
                for (; row < end && !token.IsCancellationRequested; row++)
                {
                    Insert(row, scratch, concurrent: false);
                    int done = row + 1 - start;
                    if (progress is not null && done % step == 0 && done < total)
                    {
                        progress.Report(new HnswAddProgress(done, total, watch.Elapsed));
                    }
                }

                AdoptOrphans();
                progress?.Report(new HnswAddProgress(row - start, total, watch.Elapsed));
                return row;
            }

            // The first node of an empty graph only becomes the entry point; insert it before the workers start.
            if (_entryPoint < 0 && !token.IsCancellationRequested)
            {
                Insert(first++, scratch, concurrent: false);
            }
        }
        finally
        {
            ReturnScratch(scratch);
        }

        int next = first;
        int finished = first - start;
        int nextReport = step;
        void Work(bool reports)
        {
            HnswScratch local = RentScratch();
            try
            {
                while (!token.IsCancellationRequested)
                {
                    int row = Interlocked.Increment(ref next) - 1;
                    if (row >= end)
                    {
                        break;
                    }

                    Insert(row, local, concurrent: true);
                    int done = Interlocked.Increment(ref finished);
                    if (reports && progress is not null && done >= nextReport && done < total)
                    {
                        progress.Report(new HnswAddProgress(done, total, watch.Elapsed));
                        nextReport = ((done / step) + 1) * step;
                    }
                }
            }
            finally
            {
                ReturnScratch(local);
            }
        }

        // The calling thread works too and is the only one that reports progress.
        var helpers = new Task[workers - 1];
        for (int i = 0; i < helpers.Length; i++)
        {
            helpers[i] = Task.Run(() => Work(reports: false), CancellationToken.None);
        }

        try
        {
            Work(reports: true);
        }
        finally
        {
            Task.WaitAll(helpers);
        }

        AdoptOrphans();
        int insertedEnd = Math.Min(Volatile.Read(ref next), end);
        progress?.Report(new HnswAddProgress(insertedEnd - start, total, watch.Elapsed));
        return insertedEnd;
    }

    /// <summary>
    /// Gives a parent to every node that found none while it was inserted. In a threaded build a node's
    /// candidates may all be outside the parent tree at that moment, because their own parents are not
    /// chosen yet. Such a node is queued, and adopted here, single-threaded, by the first tree node with
    /// room in a breadth-first walk of layer 0 from the root. Without this, pruning could leave it unreachable.
    /// </summary>
    private void AdoptOrphans()
    {
        if (_orphans.IsEmpty)
        {
            return;
        }

        HnswScratch scratch = RentScratch();
        try
        {
            while (_orphans.TryDequeue(out int orphan))
            {
                if (_parents[orphan] >= 0)
                {
                    continue;
                }

                List<int> queue = scratch.Queue;
                queue.Clear();
                scratch.BeginVisits(_capacity);
                scratch.Visit(orphan);
                scratch.Visit(0);
                queue.Add(0);
                int parent = TryAdoptChild(0, orphan, concurrent: false) ? 0 : -1;
                for (int head = 0; parent < 0 && head < queue.Count; head++)
                {
                    foreach (int neighbor in ReadLinks(queue[head], 0, scratch, concurrent: false))
                    {
                        if (!scratch.Visit(neighbor))
                        {
                            continue;
                        }

                        if (TryAdoptChild(neighbor, orphan, concurrent: false))
                        {
                            parent = neighbor;
                            break;
                        }

                        queue.Add(neighbor);
                    }
                }

                Debug.Assert(parent >= 0, "The tree has fewer edges than its M-per-node room, so some tree node has room.");
                if (parent >= 0)
                {
                    AddLink(parent, orphan, 0, scratch, concurrent: false);
                    AddLink(orphan, parent, 0, scratch, concurrent: false);
                }
            }
        }
        finally
        {
            ReturnScratch(scratch);
        }
    }

    /// <summary>Links node <paramref name="q"/> into every layer up to its level (Algorithm 1 of Malkov and Yashunin).</summary>
    private void Insert(int q, HnswScratch scratch, bool concurrent)
    {
        int level = _levels[q];
        ReadOnlySpan<float> x = Row(q);
        bool holdsEntryLock = false;
        if (concurrent)
        {
            Monitor.Enter(_entryLock);
            holdsEntryLock = true;
        }

        try
        {
            int entry = _entryPoint;
            int top = _maxLevel;
            if (entry < 0)
            {
                _entryPoint = q;
                _maxLevel = level;
                return;
            }

            // A node that raises the top level keeps the lock until it is linked, so no other node can descend
            // from it while its upper lists are empty.
            if (holdsEntryLock && level <= top)
            {
                Monitor.Exit(_entryLock);
                holdsEntryLock = false;
            }

            float entryDistance = Distance(x, entry);
            for (int layer = top; layer > level; layer--)
            {
                GreedyDescend(x, layer, ref entry, ref entryDistance, scratch, concurrent);
            }

            for (int layer = Math.Min(level, top); layer >= 0; layer--)
            {
                SearchLayer(x, entry, entryDistance, EfConstruction, layer, scratch, concurrent, ResultFilter.None);
                int found = scratch.DrainResults();
                entry = scratch.FoundNodes[0];
                entryDistance = scratch.FoundDistances[0];
                Connect(q, layer, scratch, found, concurrent);
            }

            if (level > top)
            {
                _entryPoint = q;
                _maxLevel = level;
            }
        }
        finally
        {
            if (holdsEntryLock)
            {
                Monitor.Exit(_entryLock);
            }
        }
    }

    /// <summary>Moves <paramref name="entry"/> to a closer neighbor on <paramref name="layer"/> until none is closer.</summary>
    private void GreedyDescend(ReadOnlySpan<float> x, int layer, ref int entry, ref float entryDistance, HnswScratch scratch, bool concurrent)
    {
        bool moved = true;
        while (moved)
        {
            moved = false;
            ReadOnlySpan<int> links = ReadLinks(entry, layer, scratch, concurrent);
            foreach (int neighbor in links)
            {
                float distance = Distance(x, neighbor);
                if (distance < entryDistance)
                {
                    entry = neighbor;
                    entryDistance = distance;
                    moved = true;
                }
            }
        }
    }

    /// <summary>
    /// Beam search of width <paramref name="ef"/> on one layer (Algorithm 2 of Malkov and Yashunin), leaving the best accepted
    /// nodes in <see cref="HnswScratch.Results"/>. Rejected nodes still extend the beam, and the search stops only
    /// when the nearest open candidate is farther than the worst of ef accepted results.
    /// </summary>
    private void SearchLayer(ReadOnlySpan<float> x, int entry, float entryDistance, int ef, int layer, HnswScratch scratch, bool concurrent, in ResultFilter filter)
    {
        NodeHeap<NearestOnTop> candidates = scratch.Candidates;
        NodeHeap<FarthestOnTop> results = scratch.Results;
        candidates.Clear();
        results.Clear();
        scratch.BeginVisits(_capacity);
        scratch.Visit(entry);
        candidates.Push(entryDistance, entry);
        if (filter.Accepts(this, entry))
        {
            results.Push(entryDistance, entry);
        }

        while (candidates.Count > 0)
        {
            float nearest = candidates.TopDistance;
            if (results.Count >= ef && nearest > results.TopDistance)
            {
                break;
            }

            int current = candidates.Pop();
            if (candidates.Count > 0)
            {
                PrefetchLinks(candidates.TopNode, layer);
            }

            // Collecting the unvisited neighbors first lets the loop below prefetch the vector of the next one
            // while it computes the current distance. Visit marks do not depend on order, so results are unchanged.
            ReadOnlySpan<int> links = ReadLinks(current, layer, scratch, concurrent);
            int[] open = scratch.Unvisited;
            int openCount = 0;
            foreach (int neighbor in links)
            {
                if (scratch.Visit(neighbor))
                {
                    open[openCount++] = neighbor;
                }
            }

            if (openCount > 0)
            {
                PrefetchRow(open[0]);
            }

            for (int i = 0; i < openCount; i++)
            {
                int neighbor = open[i];
                if (i + 1 < openCount)
                {
                    PrefetchRow(open[i + 1]);
                }

                float distance = Distance(x, neighbor);
                if (results.Count >= ef && distance >= results.TopDistance)
                {
                    continue;
                }

                candidates.Push(distance, neighbor);
                if (filter.Accepts(this, neighbor))
                {
                    results.Push(distance, neighbor);
                    if (results.Count > ef)
                    {
                        results.Pop();
                    }
                }
            }
        }
    }

    /// <summary>Chooses the links of new node <paramref name="q"/> on <paramref name="layer"/> and adds the reverse links.</summary>
    private void Connect(int q, int layer, HnswScratch scratch, int found, bool concurrent)
    {
        Span<int> chosen = stackalloc int[_m];
        int selectedCount = SelectFromFound(scratch, found, chosen);
        int parent = layer == 0 ? ChooseParent(q, scratch, found, concurrent) : -1;
        if (layer == 0 && parent < 0 && q != 0)
        {
            _orphans.Enqueue(q);
        }

        // The new node links to its parent as well, in a free slot: it keeps at most M of its 2M layer-0 slots.
        Span<int> own = Links(q, layer);
        Lock(q, concurrent);
        own.Clear();
        chosen.Slice(0, selectedCount).CopyTo(own.Slice(1));
        own[0] = selectedCount;
        if (parent >= 0 && !chosen.Slice(0, selectedCount).Contains(parent))
        {
            own[1 + own[0]] = parent;
            own[0]++;
        }

        Unlock(q, concurrent);

        if (parent >= 0)
        {
            AddLink(parent, q, layer, scratch, concurrent);
        }

        for (int i = 0; i < selectedCount; i++)
        {
            if (chosen[i] != parent)
            {
                AddLink(chosen[i], q, layer, scratch, concurrent);
            }
        }
    }

    /// <summary>Runs the heuristic over the drained search results, nearest first, and fills <paramref name="chosen"/> as far as it can.</summary>
    private int SelectFromFound(HnswScratch scratch, int found, Span<int> chosen)
    {
        int max = chosen.Length;
        int count = 0;
        int prunedCount = 0;
        int[] pruned = scratch.Pruned;
        for (int i = 0; i < found && count < max; i++)
        {
            int candidate = scratch.FoundNodes[i];
            if (IsDiverse(candidate, scratch.FoundDistances[i], chosen.Slice(0, count)))
            {
                chosen[count++] = candidate;
            }
            else if (KeepPrunedConnections && prunedCount < pruned.Length)
            {
                pruned[prunedCount++] = candidate;
            }
        }

        for (int i = 0; i < prunedCount && count < max; i++)
        {
            chosen[count++] = pruned[i];
        }

        return count;
    }

    /// <summary>
    /// The test of the heuristic: keeps a candidate only when it is strictly closer to the base node than to every
    /// node already kept, so of several copies of one vector only the first survives.
    /// </summary>
    private bool IsDiverse(int candidate, float distanceToBase, ReadOnlySpan<int> kept)
    {
        ReadOnlySpan<float> y = Row(candidate);
        foreach (int other in kept)
        {
            if (Distance(y, other) <= distanceToBase)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Picks the parent of <paramref name="q"/>: the nearest found node with fewer than M children or, when all are
    /// full (as among many copies of one vector), the first such node in a breadth-first walk of layer 0 from them.
    /// Returns −1 only when no reachable node in the tree has room.
    /// </summary>
    private int ChooseParent(int q, HnswScratch scratch, int found, bool concurrent)
    {
        for (int i = 0; i < found; i++)
        {
            if (TryAdoptChild(scratch.FoundNodes[i], q, concurrent))
            {
                return scratch.FoundNodes[i];
            }
        }

        List<int> queue = scratch.Queue;
        queue.Clear();
        scratch.BeginVisits(_capacity);
        scratch.Visit(q);
        for (int i = 0; i < found; i++)
        {
            scratch.Visit(scratch.FoundNodes[i]);
            queue.Add(scratch.FoundNodes[i]);
        }

        for (int head = 0; head < queue.Count; head++)
        {
            foreach (int neighbor in ReadLinks(queue[head], 0, scratch, concurrent))
            {
                if (!scratch.Visit(neighbor))
                {
                    continue;
                }

                if (TryAdoptChild(neighbor, q, concurrent))
                {
                    return neighbor;
                }

                queue.Add(neighbor);
            }
        }

        return -1;
    }

    /// <summary>
    /// Makes <paramref name="parent"/> the parent of <paramref name="child"/> if it has room and is in the tree itself:
    /// row 0, the first node ever inserted, is the root, and any other node joins when it gets its own parent. In a
    /// threaded build a node can be found through upper-layer links before that, and adopting it could form a cycle.
    /// </summary>
    private bool TryAdoptChild(int parent, int child, bool concurrent)
    {
        Lock(parent, concurrent);
        bool free = _childCounts[parent] < _m && (parent == 0 || Volatile.Read(ref _parents[parent]) >= 0);
        if (free)
        {
            _childCounts[parent]++;
            _parents[child] = parent;
        }

        Unlock(parent, concurrent);
        return free;
    }

    /// <summary>Adds the link <paramref name="from"/> → <paramref name="to"/>, pruning the list by the heuristic when full.</summary>
    private void AddLink(int from, int to, int layer, HnswScratch scratch, bool concurrent)
    {
        Span<int> list = Links(from, layer);
        int capacity = list.Length - 1;
        Lock(from, concurrent);
        try
        {
            int count = list[0];
            if (list.Slice(1, count).Contains(to))
            {
                return;
            }

            if (count < capacity)
            {
                list[1 + count] = to;
                list[0] = count + 1;
                return;
            }

            Prune(from, to, layer, list, scratch);
        }
        finally
        {
            Unlock(from, concurrent);
        }
    }

    /// <summary>
    /// Rebuilds the full list of <paramref name="node"/> from its links plus <paramref name="extra"/> with the
    /// heuristic. On layer 0 the links to the node's parent and children come first and are never dropped.
    /// </summary>
    private void Prune(int node, int extra, int layer, Span<int> list, HnswScratch scratch)
    {
        int capacity = list.Length - 1;
        int[] nodes = scratch.PruneNodes;
        float[] distances = scratch.PruneDistances;
        ReadOnlySpan<float> x = Row(node);
        int n = 0;
        for (int i = 1; i <= capacity; i++)
        {
            nodes[n] = list[i];
            distances[n] = Distance(x, list[i]);
            n++;
        }

        nodes[n] = extra;
        distances[n] = Distance(x, extra);
        n++;
        SortByDistance(nodes, distances, n);

        Span<int> selected = scratch.Selected;
        int count = 0;
        if (layer == 0)
        {
            for (int i = 0; i < n; i++)
            {
                if (IsTreeLink(node, nodes[i]))
                {
                    selected[count++] = nodes[i];
                }
            }
        }

        int prunedCount = 0;
        int[] pruned = scratch.Pruned;
        for (int i = 0; i < n && count < capacity; i++)
        {
            int candidate = nodes[i];
            if (layer == 0 && IsTreeLink(node, candidate))
            {
                continue;
            }

            if (IsDiverse(candidate, distances[i], selected.Slice(0, count)))
            {
                selected[count++] = candidate;
            }
            else
            {
                pruned[prunedCount++] = candidate;
            }
        }

        if (KeepPrunedConnections)
        {
            for (int i = 0; i < prunedCount && count < capacity; i++)
            {
                selected[count++] = pruned[i];
            }
        }

        list.Clear();
        list[0] = count;
        selected.Slice(0, count).CopyTo(list.Slice(1));
    }

    private bool IsTreeLink(int node, int other) => _parents[other] == node || _parents[node] == other;

    /// <summary>Sorts a short candidate list by (distance, row) in place; lists have at most 2M + 1 entries.</summary>
    private static void SortByDistance(int[] nodes, float[] distances, int n)
    {
        for (int i = 1; i < n; i++)
        {
            int node = nodes[i];
            float distance = distances[i];
            int j = i - 1;
            while (j >= 0 && (distances[j] > distance || (distances[j] == distance && nodes[j] > node)))
            {
                nodes[j + 1] = nodes[j];
                distances[j + 1] = distances[j];
                j--;
            }

            nodes[j + 1] = node;
            distances[j + 1] = distance;
        }
    }

    /// <summary>Returns the links of <paramref name="node"/> on <paramref name="layer"/>; a concurrent build reads a copy taken under the node's lock.</summary>
    private ReadOnlySpan<int> ReadLinks(int node, int layer, HnswScratch scratch, bool concurrent)
    {
        Span<int> list = Links(node, layer);
        if (!concurrent)
        {
            return list.Slice(1, list[0]);
        }

        Lock(node, true);
        int count = list[0];
        list.Slice(1, count).CopyTo(scratch.Links);
        Unlock(node, true);
        return scratch.Links.AsSpan(0, count);
    }

    /// <summary>Prefetches the first <see cref="RowPrefetchLines"/> cache lines of the vector of <paramref name="row"/>.</summary>
    private void PrefetchRow(int row) => MemoryPrefetch.Prefetch(in _vectors[row * Dimension], RowPrefetchLines);

    /// <summary>Prefetches the link list of <paramref name="node"/> on <paramref name="layer"/> (2M + 1 ints on layer 0).</summary>
    private void PrefetchLinks(int node, int layer)
    {
        if (layer == 0)
        {
            MemoryPrefetch.Prefetch(in _links0[node * _layer0Stride], 2);
        }
    }

    /// <summary>Returns the whole list of <paramref name="node"/> on <paramref name="layer"/>: the count, then the slots.</summary>
    private Span<int> Links(int node, int layer) => layer == 0
        ? _links0.AsSpan(node * _layer0Stride, _layer0Stride)
        : _upperLinks.AsSpan(_upperOffsets[node] + ((layer - 1) * _upperStride), _upperStride);

    private void Lock(int node, bool concurrent)
    {
        if (!concurrent)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _lockWords[node], 1, 0) == 0)
        {
            return;
        }

        var spin = default(SpinWait);
        while (Interlocked.CompareExchange(ref _lockWords[node], 1, 0) != 0)
        {
            spin.SpinOnce();
        }
    }

    private void Unlock(int node, bool concurrent)
    {
        if (concurrent)
        {
            Volatile.Write(ref _lockWords[node], 0);
        }
    }

    /// <summary>Which nodes a search may return: all during construction and in unfiltered queries; otherwise not deleted, not excluded, passing the filter.</summary>
    private readonly struct ResultFilter
    {
        private readonly bool _all;
        private readonly long _excludedId;
        private readonly Func<long, bool>? _predicate;

        public ResultFilter(long excludedId, Func<long, bool>? predicate)
        {
            _all = false;
            _excludedId = excludedId;
            _predicate = predicate;
        }

        private ResultFilter(bool all)
        {
            _all = all;
            _excludedId = -1;
            _predicate = null;
        }

        public static ResultFilter None => new(all: true);

        public bool Accepts(HnswIndex index, int row)
        {
            if (_all)
            {
                return true;
            }

            if (index._deleted[row])
            {
                return false;
            }

            long id = index._ids[row];
            return id != _excludedId && (_predicate is null || _predicate(id));
        }
    }
}
