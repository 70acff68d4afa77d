using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Builds a hierarchical navigable small world (HNSW) graph over a collection and returns a
/// <see cref="NeighborSearchingTransformer"/> that adds each query's approximate neighbors.
/// </summary>
/// <remarks>
/// <para>
/// Every vector becomes a node on layers 0 to l, with l drawn from an exponentially decaying distribution.
/// A query descends greedily through the sparse upper layers and then runs a beam search of width efSearch
/// on layer 0, which contains every node. The algorithm follows Yu. A. Malkov and D. A. Yashunin,
/// "Efficient and robust approximate nearest neighbor search using Hierarchical Navigable Small World
/// graphs", IEEE TPAMI 42(4), 2020 (online 2018); see <see cref="HnswIndex"/> for the details.
/// </para>
/// <para>
/// Recall against speed: a wider search beam (efSearch) visits more nodes, so recall rises and each query
/// costs roughly proportionally more time. More links per node (M) and a wider build beam (efConstruction)
/// give a better graph, hence higher recall at the same efSearch, at the price of a slower build and more memory.
/// </para>
/// <para>Estimator characteristics:</para>
/// <list type="table">
/// <item><term>Trains on data</term><description>Yes: it inserts every collection vector into the graph.</description></item>
/// <item><term>Input columns</term><description>A vector of Single; optional integer id and label columns.</description></item>
/// <item><term>Output columns</term><description>Neighbor ids (vector of Int64), distances (vector of Single), neighbor labels (vector of Text, with labels).</description></item>
/// <item><term>Saves in a model zip</term><description>Yes, as standard ML.NET transformers; the zip contains all vectors and the graph.</description></item>
/// </list>
/// <para>
/// Distances are those of <see cref="ExactIndexingEstimator"/>: smaller is closer for every metric.
/// Only a build with <see cref="NeighborSearchOptions.NumberOfThreads"/> = 1 is deterministic; with more threads
/// the insertion order, hence the graph and the results, varies from run to run.
/// </para>
/// </remarks>
/// <seealso cref="RetrievalCatalog.IndexHnsw(string, int, DistanceMetric, int, string?, string?)"/>
public sealed class HnswIndexingEstimator : IEstimator<NeighborSearchingTransformer>
{
    private readonly MLContext _context;
    private readonly Options _options;

    /// <summary>Settings of <see cref="HnswIndexingEstimator"/>.</summary>
    public sealed class Options : NeighborSearchOptions
    {
        /// <summary>Default values of <see cref="HnswIndexingEstimator.Options"/>.</summary>
        public new static class Defaults
        {
            /// <summary>Default links per node M: 16.</summary>
            public const int Connectivity = 16;

            /// <summary>Default build beam width efConstruction: 200.</summary>
            public const int EfConstruction = 200;

            /// <summary>Default search beam width efSearch: 64.</summary>
            public const int EfSearch = 64;
        }

        /// <summary>Distance between vectors; <see cref="DistanceMetric.SquaredEuclidean"/> by default. Every metric is supported.</summary>
        public DistanceMetric Metric { get; set; } = DistanceMetric.SquaredEuclidean;

        /// <summary>
        /// Links per node M on the upper layers, in [2, 1024]; layer 0 keeps up to 2M. Larger values raise recall
        /// and cost build time and (2M + 1) × 4 bytes per vector at layer 0.
        /// </summary>
        public int Connectivity { get; set; } = Defaults.Connectivity;

        /// <summary>Beam width efConstruction of the search that finds a new node's neighbors, at least 1.</summary>
        public int EfConstruction { get; set; } = Defaults.EfConstruction;

        /// <summary>
        /// Beam width efSearch of a query, at least 1, stored in the model; a search uses max(efSearch, k).
        /// <see cref="NeighborSearcher.EfSearch"/> changes it later.
        /// </summary>
        public int EfSearch { get; set; } = Defaults.EfSearch;

        /// <summary>
        /// Seed of the generator that draws node levels. Null draws one from the <see cref="MLContext"/>'s random
        /// source, so <c>new MLContext(seed: n)</c> reproduces a single-threaded build.
        /// </summary>
        public int? Seed { get; set; }

        /// <summary>
        /// Whether the neighbor selection heuristic fills free link slots with the candidates it pruned, nearest
        /// first (keepPrunedConnections of Malkov and Yashunin). Default false.
        /// </summary>
        public bool KeepPrunedConnections { get; set; }

        internal new void Validate()
        {
            base.Validate();
            if (!Enum.IsDefined(Metric))
                throw new ArgumentOutOfRangeException(nameof(Metric), Metric, $"Unknown metric. Use one of: {string.Join(", ", Enum.GetNames<DistanceMetric>())}.");
            if (Connectivity < 2 || Connectivity > HnswOptions.MaxConnectivity)
                throw new ArgumentOutOfRangeException(nameof(Connectivity), Connectivity, $"Connectivity (M) must be in [2, {HnswOptions.MaxConnectivity}].");
            if (EfConstruction < 1)
                throw new ArgumentOutOfRangeException(nameof(EfConstruction), EfConstruction, "EfConstruction must be at least 1.");
            if (EfSearch < 1)
                throw new ArgumentOutOfRangeException(nameof(EfSearch), EfSearch, "EfSearch must be at least 1.");
        }
    }

    internal HnswIndexingEstimator(MLContext context, Options options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _context = context;
        _options = options;
    }

    /// <summary>Reads the collection, inserts every row into the graph and returns the searching transformer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    /// <exception cref="ArgumentException">A row is a zero vector under the cosine metric.</exception>
    /// <exception cref="InvalidDataException">A row has a bad value (NaN, wrong length, negative or duplicate id).</exception>
    public NeighborSearchingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CollectionData data = CollectionReader.Read(input, _options);
        _options.CancellationToken.ThrowIfCancellationRequested();

        int seed = TrainingSamples.ResolveSeed(_context, _options.Seed, nameof(HnswIndexingEstimator));
        var index = new HnswIndex(data.Dimension, _options.Metric, new HnswOptions
        {
            Connectivity = _options.Connectivity,
            EfConstruction = _options.EfConstruction,
            EfSearch = _options.EfSearch,
            Seed = unchecked((ulong)seed),
            KeepPrunedConnections = _options.KeepPrunedConnections,
            InitialCapacity = data.Count,
        });

        _options.Progress?.Report(new IndexingProgress("index", 0, data.Count));
        IProgress<HnswAddProgress>? graphProgress = _options.Progress is { } progress ? new GraphProgress(progress) : null;
        if (data.Ids is null)
            index.Add(data.Vectors, _options.NumberOfThreads, graphProgress, _options.CancellationToken);
        else
            index.Add(data.Vectors, data.Ids, _options.NumberOfThreads, graphProgress, _options.CancellationToken);
        _options.Progress?.Report(new IndexingProgress("index", data.Count, data.Count));

        var state = new SearchState(new HnswIndexAdapter(index, data.Ids), _options.NumberOfNeighbors, _options.ExcludeSelf, data.Labels);
        return new NeighborSearchingTransformer(_context, state, _options);
    }

    /// <summary>Checks the input columns and returns the schema with the added neighbor columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => NeighborOutputSchema.Create(_context, inputSchema, _options);
}

/// <summary>Forwards the graph build's progress as "index" stage reports.</summary>
internal sealed class GraphProgress(IProgress<IndexingProgress> target) : IProgress<HnswAddProgress>
{
    public void Report(HnswAddProgress value) => target.Report(new IndexingProgress("index", value.Inserted, value.Total));
}
