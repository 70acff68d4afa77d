using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Verification;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Scores pairs of embeddings held in two vector columns: adds a similarity score and, with a
/// threshold, a match decision.
/// </summary>
/// <remarks>
/// <para>Estimator characteristics:</para>
/// <list type="table">
/// <item><term>Trains on data</term><description>No: fitting only checks the schema.</description></item>
/// <item><term>Input columns</term><description>Two vectors of Single of equal length.</description></item>
/// <item><term>Output columns</term><description>Score (Single); IsMatch (Boolean) when a threshold is set.</description></item>
/// <item><term>Saves in a model zip</term><description>Yes, as standard ML.NET transformers.</description></item>
/// </list>
/// <para>
/// Scores are "higher = more similar": cosine \(s(x, y) = \frac{x \cdot y}{\lVert x \rVert \lVert y \rVert}\)
/// (0 when either vector is zero) or negative squared Euclidean \(s(x, y) = -\lVert x - y \rVert_2^2\).
/// IsMatch is \(s \ge t\). <see cref="ThresholdCalibrator"/> picks t for a target false accept rate.
/// </para>
/// </remarks>
/// <seealso cref="VerificationCatalog.ScorePairs(RetrievalCatalog, string, string, PairScoreKind, float?)"/>
public sealed class VerificationScoringEstimator : IEstimator<VerificationScoringTransformer>
{
    private readonly MLContext _context;
    private readonly Options _options;

    /// <summary>Settings of <see cref="VerificationScoringEstimator"/>.</summary>
    public sealed class Options
    {
        /// <summary>Column with the first embedding of each pair (vector of Single).</summary>
        public string FirstColumnName { get; set; } = "First";

        /// <summary>Column with the second embedding of each pair (vector of Single, same length as the first).</summary>
        public string SecondColumnName { get; set; } = "Second";

        /// <summary>Name of the added score column (Single); "Score" by default.</summary>
        public string ScoreColumnName { get; set; } = "Score";

        /// <summary>Name of the added match column (Boolean), present only with a threshold; "IsMatch" by default.</summary>
        public string MatchColumnName { get; set; } = "IsMatch";

        /// <summary>The similarity; <see cref="PairScoreKind.Cosine"/> by default.</summary>
        public PairScoreKind Kind { get; set; } = PairScoreKind.Cosine;

        /// <summary>Optional decision threshold t: a pair matches when its score ≥ t. Null adds no match column.</summary>
        public float? Threshold { get; set; }

        internal void Validate()
        {
            CheckName(FirstColumnName, nameof(FirstColumnName));
            CheckName(SecondColumnName, nameof(SecondColumnName));
            CheckName(ScoreColumnName, nameof(ScoreColumnName));
            CheckName(MatchColumnName, nameof(MatchColumnName));
            PairScorer.CheckKind(Kind);
            if (Threshold is float threshold && float.IsNaN(threshold))
                throw new ArgumentOutOfRangeException(nameof(Threshold), threshold, "The threshold must not be NaN; leave it null for scores only.");
            if (Threshold is not null && ScoreColumnName == MatchColumnName)
                throw new ArgumentException($"ScoreColumnName and MatchColumnName are both '{ScoreColumnName}'. Give the two output columns different names.", nameof(MatchColumnName));
        }

        private static void CheckName(string name, string parameterName)
        {
            if (string.IsNullOrWhiteSpace(name))
                throw new ArgumentException($"{parameterName} is empty. Give a column name.", parameterName);
        }
    }

    internal VerificationScoringEstimator(MLContext context, Options options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _context = context;
        _options = options;
    }

    /// <summary>Checks the two input columns and returns the pair-scoring transformer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing, is not a vector of Single, or the two sizes differ.</exception>
    public VerificationScoringTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        VerificationScoringTransformer.CheckSchema(input.Schema, _options);
        return new VerificationScoringTransformer(_context, _options);
    }

    /// <summary>Checks the input columns and returns the schema with the added score (and match) columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or is not a vector of Single.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaChecks.CheckFeatureColumn(inputSchema, _options.FirstColumnName, "first pair");
        SchemaChecks.CheckFeatureColumn(inputSchema, _options.SecondColumnName, "second pair");

        // SchemaShape.Column has no public constructor; the standard chain computes the shape.
        return VerificationScoringTransformer.BuildPipeline(_context, _options, [string.Empty], new RowPairScorer()).GetOutputSchema(inputSchema);
    }
}

/// <summary>
/// Adds the similarity of two vector columns (Score, Single) and, with a threshold, the decision
/// (IsMatch, Boolean). Built by <see cref="VerificationScoringEstimator"/>.
/// </summary>
/// <remarks>
/// Like <see cref="NeighborSearchingTransformer"/>, this is a shell around standard ML.NET
/// transformers, which is what the model zip holds: copies of the two input columns, a custom mapping
/// (contract <c>MLNetRetrieval.PairScoreKey.v1</c>) that emits a constant key, a value mapping that
/// stores the settings (similarity kind and threshold) as text, the scoring custom mapping (contract
/// <c>MLNetRetrieval.PairScore.v1</c>), copies to the output names and a drop of the temporary
/// columns. A zip therefore loads with plain <c>MLContext.Model.Load</c>.
/// </remarks>
public sealed class VerificationScoringTransformer : ITransformer
{
    private readonly ITransformer _chain;
    private readonly VerificationScoringEstimator.Options _options;

    internal VerificationScoringTransformer(MLContext context, VerificationScoringEstimator.Options options)
    {
        _options = options;
        var settings = new PairScoreSettings(options.Kind, options.Threshold);
        string[] chunks = TextPayload.Encode(settings.Serialize());
        IEstimator<ITransformer> pipeline = BuildPipeline(context, options, chunks, new RowPairScorer(chunks[0], settings));
        _chain = pipeline.Fit(CreateEmptyPairView(context, options));
    }

    /// <summary>The similarity.</summary>
    public PairScoreKind Kind => _options.Kind;

    /// <summary>The decision threshold, or null when the transformer adds scores only.</summary>
    public float? Threshold => _options.Threshold;

    /// <summary>Name of the added score column.</summary>
    public string ScoreColumnName => _options.ScoreColumnName;

    /// <summary>Name of the added match column, or null without a threshold.</summary>
    public string? MatchColumnName => _options.Threshold is null ? null : _options.MatchColumnName;

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        CheckSchema(inputSchema, _options);
        return _chain.GetOutputSchema(inputSchema);
    }

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckSchema(input.Schema, _options);
        return _chain.Transform(input);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        CheckSchema(inputSchema, _options);
        return _chain.GetRowToRowMapper(inputSchema);
    }

    /// <summary>Writes the underlying standard transformer chain, so the model zip needs no MLNetRetrieval loader.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => _chain.Save(ctx);

    internal static void CheckSchema(DataViewSchema schema, VerificationScoringEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(schema);
        DataViewSchema.Column first = SchemaChecks.CheckFeatureColumn(schema, options.FirstColumnName, "first pair");
        DataViewSchema.Column second = SchemaChecks.CheckFeatureColumn(schema, options.SecondColumnName, "second pair");
        int firstSize = ((VectorDataViewType)first.Type).Size;
        int secondSize = ((VectorDataViewType)second.Type).Size;
        if (firstSize != 0 && secondSize != 0 && firstSize != secondSize)
            throw new ArgumentOutOfRangeException(nameof(schema), $"The pair columns '{first.Name}' and '{second.Name}' have vectors of sizes {firstSize} and {secondSize}. Score vectors of one size.");
    }

    internal static IEstimator<ITransformer> BuildPipeline(MLContext context, VerificationScoringEstimator.Options options, string[] chunks, RowPairScorer scorer)
    {
        TransformsCatalog transforms = context.Transforms;
        IEstimator<ITransformer> pipeline = transforms.CopyColumns(PairColumns.First, options.FirstColumnName)
            .Append(transforms.CopyColumns(PairColumns.Second, options.SecondColumnName))
            .Append(transforms.CustomMapping(new PairSettingsKeyMappingFactory().GetMapping(), PairSettingsKeyMappingFactory.ContractName))
            .Append(transforms.Conversion.MapValue(
                PairColumns.Settings,
                new[] { new KeyValuePair<string, string[]>(PairColumns.SettingsKeyValue, chunks) },
                PairColumns.SettingsKey))
            .Append(transforms.CustomMapping<PairScoreInput, PairScoreOutput>(scorer.Score, PairScoreMappingFactory.ContractName))
            .Append(transforms.CopyColumns(options.ScoreColumnName, PairColumns.Score));
        if (options.Threshold is not null)
            pipeline = pipeline.Append(transforms.CopyColumns(options.MatchColumnName, PairColumns.IsMatch));

        return pipeline.Append(transforms.DropColumns(
            PairColumns.First, PairColumns.Second, PairColumns.SettingsKey, PairColumns.Settings, PairColumns.Score, PairColumns.IsMatch));
    }

    /// <summary>An empty view with the two pair columns; the chain's transforms only learn column types from it.</summary>
    private static IDataView CreateEmptyPairView(MLContext context, VerificationScoringEstimator.Options options)
    {
        SchemaDefinition definition = SchemaDefinition.Create(typeof(PairSchemaRow));
        definition[nameof(PairSchemaRow.First)].ColumnName = options.FirstColumnName;
        definition[nameof(PairSchemaRow.Second)].ColumnName = options.SecondColumnName;
        return context.Data.LoadFromEnumerable(Array.Empty<PairSchemaRow>(), definition);
    }

    private sealed class PairSchemaRow
    {
        public float[] First = [];

        public float[] Second = [];
    }
}
