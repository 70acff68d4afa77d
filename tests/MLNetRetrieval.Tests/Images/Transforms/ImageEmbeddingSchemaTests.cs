using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Images;
using MLNetRetrieval.Images.Decoding;
using MLNetRetrieval.Images.Preprocessing;
using MLNetRetrieval.Images.Transforms;
using MLNetRetrieval.Tests.Transforms;

namespace MLNetRetrieval.Tests.Images.Transforms;

/// <summary>Schema propagation and option checks, which run before any model is loaded.</summary>
public sealed class ImageEmbeddingSchemaTests
{
    [Fact]
    public void PathColumnGivesVectorAndFailure()
    {
        var context = new MLContext(seed: 1);
        IDataView input = context.Data.LoadFromEnumerable(new[] { new PathRow() });

        SchemaShape shape = context.Retrieval().EmbedImages("Embedding", "ImagePath").GetOutputSchema(TestData.ShapeOf(input.Schema));

        SchemaShape.Column embedding = shape.Single(c => c.Name == "Embedding");
        SchemaShape.Column failure = shape.Single(c => c.Name == "EmbeddingFailure");
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, embedding.Kind);
        Assert.Equal(NumberDataViewType.Single, embedding.ItemType);
        Assert.Equal(SchemaShape.Column.VectorKind.Scalar, failure.Kind);
        Assert.IsType<TextDataViewType>(failure.ItemType);
    }

    [Fact]
    public void SchemaKeepsInputAndHidesInternals()
    {
        var context = new MLContext(seed: 1);
        IDataView input = context.Data.LoadFromEnumerable(new[] { new PathRow() });

        SchemaShape shape = context.Retrieval().EmbedImages("Embedding", "ImagePath").GetOutputSchema(TestData.ShapeOf(input.Schema));

        Assert.Equal(new[] { "Embedding", "EmbeddingFailure", "ImagePath", "Label" }, shape.Select(c => c.Name).Order().ToArray());
    }

    [Fact]
    public void ByteVectorColumnIsAccepted()
    {
        var context = new MLContext(seed: 1);
        IDataView input = context.Data.LoadFromEnumerable(new[] { new BytesRow() });

        SchemaShape shape = context.Retrieval().EmbedImages("Vector", "ImageBytes").GetOutputSchema(TestData.ShapeOf(input.Schema));

        Assert.Equal(SchemaShape.Column.VectorKind.Vector, shape.Single(c => c.Name == "Vector").Kind);
        Assert.Contains(shape, c => c.Name == "VectorFailure");
    }

    [Fact]
    public void MissingImageColumnIsRejected()
    {
        var context = new MLContext(seed: 1);
        IDataView input = context.Data.LoadFromEnumerable(new[] { new PathRow() });
        ImageEmbeddingEstimator estimator = context.Retrieval().EmbedImages("Embedding", "Picture");

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(TestData.ShapeOf(input.Schema)));

        Assert.Contains("'Picture' is not in the input", error.Message);
    }

    [Fact]
    public void NumericImageColumnIsRejected()
    {
        var context = new MLContext(seed: 1);
        IDataView input = context.Data.LoadFromEnumerable(new[] { new FloatRow() });
        ImageEmbeddingEstimator estimator = context.Retrieval().EmbedImages("Embedding", "Pixels");

        var schemaError = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(TestData.ShapeOf(input.Schema)));
        var fitError = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(input));

        Assert.Contains("expected Text (a file path) or a vector of Byte", schemaError.Message);
        Assert.Contains("expected Text (a file path) or a vector of Byte", fitError.Message);
    }

    [Theory]
    [InlineData("", "ImagePath")]
    [InlineData(" ", "ImagePath")]
    [InlineData("Embedding", "")]
    public void BlankColumnNamesAreRejected(string output, string input)
    {
        var context = new MLContext(seed: 1);

        Assert.Throws<ArgumentException>(() => context.Retrieval().EmbedImages(output, input));
    }

    public static TheoryData<string, ImageEmbedderOptions> InvalidOptions() => new()
    {
        { "BatchSize", new ImageEmbedderOptions { BatchSize = 0 } },
        { "Threads", new ImageEmbedderOptions { Threads = -1 } },
        { "DecodeThreads", new ImageEmbedderOptions { DecodeThreads = -2 } },
        { "BatchSize", new ImageEmbedderOptions { BatchSize = 5000 } },
        { "ModelPath", new ImageEmbedderOptions { ModelPath = " " } },
        { "decoder limits", new ImageEmbedderOptions { Decoder = new ImageDecoderOptions { MaxSide = 0 } } },
        { "Width and Height", new ImageEmbedderOptions { Preprocessing = new ImagePreprocessing { Width = 0 } } },
        { "Mean must hold 3", new ImageEmbedderOptions { Preprocessing = new ImagePreprocessing { Mean = [0f] } } },
        { "Std must hold 3", new ImageEmbedderOptions { Preprocessing = new ImagePreprocessing { Std = [1f, 1f, 1f, 1f] } } },
        { "non-zero", new ImageEmbedderOptions { Preprocessing = new ImagePreprocessing { Std = [1f, 0f, 1f] } } },
        { "finite", new ImageEmbedderOptions { Preprocessing = new ImagePreprocessing { Mean = [0f, 0f, float.NaN] } } },
        { "Scale", new ImageEmbedderOptions { Preprocessing = new ImagePreprocessing { Scale = float.PositiveInfinity } } },
        { "ResizeMode=9", new ImageEmbedderOptions { Preprocessing = new ImagePreprocessing { ResizeMode = (ImageResizeMode)9 } } },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void InvalidEmbedderOptionsAreRejected(string expected, ImageEmbedderOptions options)
    {
        var context = new MLContext(seed: 1);

        var error = Assert.ThrowsAny<ArgumentException>(() => context.Retrieval().EmbedImages("Embedding", "ImagePath", options));

        Assert.Contains(expected, error.Message);
    }

    private sealed class PathRow
    {
        public string ImagePath = string.Empty;

        public string Label = string.Empty;
    }

    private sealed class BytesRow
    {
        [VectorType]
        public byte[] ImageBytes = [];
    }

    private sealed class FloatRow
    {
        [VectorType(4)]
        public float[] Pixels = new float[4];
    }
}
