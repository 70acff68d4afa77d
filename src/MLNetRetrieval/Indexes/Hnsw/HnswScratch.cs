namespace MLNetRetrieval.Indexes;

/// <summary>
/// Working memory of one search or insertion: a generation-stamped visited set, the two heaps of the beam search and
/// link buffers. One thread uses a scratch at a time; <see cref="HnswIndex"/> keeps used ones in a pool.
/// </summary>
internal sealed class HnswScratch
{
    private int[] _visited = Array.Empty<int>();
    private int _generation;

    public HnswScratch(int linkSlots)
    {
        Links = new int[linkSlots];
        Unvisited = new int[linkSlots];
        PruneNodes = new int[linkSlots + 1];
        PruneDistances = new float[linkSlots + 1];
        Selected = new int[linkSlots + 1];
        Pruned = new int[linkSlots + 1];
    }

    /// <summary>Unvisited nodes of the beam, nearest on top.</summary>
    public NodeHeap<NearestOnTop> Candidates { get; } = new();

    /// <summary>The ef best accepted nodes so far, farthest on top.</summary>
    public NodeHeap<FarthestOnTop> Results { get; } = new();

    /// <summary>Copy of one node's links, read under its lock while a concurrent build runs.</summary>
    public int[] Links { get; }

    /// <summary>Neighbors of the expanded node that the beam search has not visited yet.</summary>
    public int[] Unvisited { get; }

    /// <summary>Candidates of a neighbor selection and their distances to the base node.</summary>
    public int[] PruneNodes { get; }

    /// <inheritdoc cref="PruneNodes"/>
    public float[] PruneDistances { get; }

    /// <summary>Output of a neighbor selection.</summary>
    public int[] Selected { get; }

    /// <summary>Candidates that the heuristic discarded, nearest first.</summary>
    public int[] Pruned { get; }

    /// <summary>Queue of the breadth-first walk that looks for a parent with room.</summary>
    public List<int> Queue { get; } = new();

    /// <summary>Nodes of the last drained result set, ascending by (distance, row).</summary>
    public int[] FoundNodes { get; private set; } = Array.Empty<int>();

    /// <inheritdoc cref="FoundNodes"/>
    public float[] FoundDistances { get; private set; } = Array.Empty<float>();

    /// <summary>Starts a new visited set over <paramref name="rows"/> rows without clearing the array.</summary>
    public void BeginVisits(int rows)
    {
        if (_visited.Length < rows)
        {
            _visited = new int[rows];
            _generation = 0;
        }

        _generation++;
        if (_generation == int.MaxValue)
        {
            Array.Clear(_visited);
            _generation = 1;
        }
    }

    /// <summary>Marks <paramref name="row"/> visited and returns whether it was new.</summary>
    public bool Visit(int row)
    {
        if (_visited[row] == _generation)
        {
            return false;
        }

        _visited[row] = _generation;
        return true;
    }

    /// <summary>Empties <see cref="Results"/> into <see cref="FoundNodes"/> nearest first and returns the count.</summary>
    public int DrainResults()
    {
        int count = Results.Count;
        if (FoundNodes.Length < count)
        {
            FoundNodes = new int[Math.Max(count, FoundNodes.Length * 2)];
            FoundDistances = new float[FoundNodes.Length];
        }

        for (int i = count - 1; i >= 0; i--)
        {
            FoundDistances[i] = Results.TopDistance;
            FoundNodes[i] = Results.Pop();
        }

        return count;
    }
}

/// <summary>
/// Binary heap of (distance, row) pairs ordered by distance, then row. The order is a type argument, so the JIT
/// compiles each heap's comparison without a branch on its direction.
/// </summary>
internal sealed class NodeHeap<TOrder>
    where TOrder : struct, INodeOrder
{
    private float[] _distances = new float[64];
    private int[] _nodes = new int[64];

    public int Count { get; private set; }

    public float TopDistance => _distances[0];

    public int TopNode => _nodes[0];

    public void Clear() => Count = 0;

    public void Push(float distance, int node)
    {
        if (Count == _nodes.Length)
        {
            Array.Resize(ref _nodes, Count * 2);
            Array.Resize(ref _distances, Count * 2);
        }

        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!TOrder.Above(distance, node, _distances[parent], _nodes[parent]))
            {
                break;
            }

            _distances[i] = _distances[parent];
            _nodes[i] = _nodes[parent];
            i = parent;
        }

        _distances[i] = distance;
        _nodes[i] = node;
    }

    /// <summary>Removes the top pair and returns its row.</summary>
    public int Pop()
    {
        int top = _nodes[0];
        int last = --Count;
        float distance = _distances[last];
        int node = _nodes[last];
        int i = 0;
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= last)
            {
                break;
            }

            if (child + 1 < last && TOrder.Above(_distances[child + 1], _nodes[child + 1], _distances[child], _nodes[child]))
            {
                child++;
            }

            if (!TOrder.Above(_distances[child], _nodes[child], distance, node))
            {
                break;
            }

            _distances[i] = _distances[child];
            _nodes[i] = _nodes[child];
            i = child;
        }

        if (last > 0)
        {
            _distances[i] = distance;
            _nodes[i] = node;
        }

        return top;
    }
}

/// <summary>Order of a <see cref="NodeHeap{TOrder}"/>.</summary>
internal interface INodeOrder
{
    /// <summary>Returns whether pair a belongs above pair b.</summary>
    static abstract bool Above(float distanceA, int nodeA, float distanceB, int nodeB);
}

/// <summary>Smallest (distance, row) on top.</summary>
internal struct NearestOnTop : INodeOrder
{
    public static bool Above(float distanceA, int nodeA, float distanceB, int nodeB) =>
        distanceA < distanceB || (distanceA == distanceB && nodeA < nodeB);
}

/// <summary>Largest (distance, row) on top.</summary>
internal struct FarthestOnTop : INodeOrder
{
    public static bool Above(float distanceA, int nodeA, float distanceB, int nodeB) =>
        distanceA > distanceB || (distanceA == distanceB && nodeA > nodeB);
}
