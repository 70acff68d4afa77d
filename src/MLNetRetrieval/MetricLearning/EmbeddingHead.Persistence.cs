using MLNetRetrieval.MetricLearning.Network;
using MLNetRetrieval.Persistence;

namespace MLNetRetrieval.MetricLearning;

// Saved layout of EmbeddingHead (see BinaryFormat for the header, sections and checksum):
//   header  "MLNRHEAD" | writtenVersion | minReaderVersion
//   "HEAD"  i32 inputDimension | i32 outputDimension | i32 layerCount | layerCount × u8 kind (LayerKind value)
//   then one section per layer, in order:
//   "LINR"  i32 in | i32 out | out × in × f32 weight, row-major | out × f32 bias
//   "RELU"  i32 dimension
//   "BNRM"  i32 dimension | f32 epsilon | dimension × f32 each: scale, shift, running mean, running variance
//   "L2NM"  i32 dimension
//   "CRC "  u32 CRC-32 of every preceding byte
// Dropout is not stored because it is the identity at inference.
// Version history:
//   1  first layout.
public sealed partial class EmbeddingHead
{
    /// <summary>Largest layer count a reader accepts, a guard against corrupt counts.</summary>
    internal const int MaxLayers = 256;

    /// <summary>Largest layer width a reader accepts.</summary>
    internal const int MaxDimension = 1 << 20;

    private const string Signature = "MLNRHEAD";
    private const uint FormatVersion = 1;
    private const uint MinReaderVersion = 1;

    /// <summary>Writes the head in its versioned binary format.</summary>
    /// <param name="stream">Destination, left open; it need not be seekable.</param>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var writer = new BinaryFormatWriter(stream, Signature, FormatVersion, MinReaderVersion);
        IReadOnlyList<Layer> layers = _network.Layers;
        writer.BeginSection("HEAD", (3 * sizeof(int)) + layers.Count);
        writer.WriteInt32(InputDimension);
        writer.WriteInt32(OutputDimension);
        writer.WriteInt32(layers.Count);
        foreach (Layer layer in layers)
        {
            writer.WriteByte((byte)layer.Kind);
        }

        writer.EndSection();
        foreach (Layer layer in layers)
        {
            switch (layer)
            {
                case LinearLayer linear:
                    writer.BeginSection("LINR", checked((2 * sizeof(int)) + ((linear.Weight.Values.Length + linear.Bias.Values.Length) * (long)sizeof(float))));
                    writer.WriteInt32(linear.InputDimension);
                    writer.WriteInt32(linear.OutputDimension);
                    writer.WriteSingles(linear.Weight.Values);
                    writer.WriteSingles(linear.Bias.Values);
                    break;
                case BatchNormLayer norm:
                    writer.BeginSection("BNRM", sizeof(int) + sizeof(float) + (4L * norm.InputDimension * sizeof(float)));
                    writer.WriteInt32(norm.InputDimension);
                    writer.WriteSingles([norm.Epsilon]);
                    writer.WriteSingles(norm.Scale.Values);
                    writer.WriteSingles(norm.Shift.Values);
                    writer.WriteSingles(norm.RunningMean);
                    writer.WriteSingles(norm.RunningVariance);
                    break;
                case ReLULayer:
                    writer.BeginSection("RELU", sizeof(int));
                    writer.WriteInt32(layer.InputDimension);
                    break;
                case L2NormalizeLayer:
                    writer.BeginSection("L2NM", sizeof(int));
                    writer.WriteInt32(layer.InputDimension);
                    break;
                default:
                    throw new InvalidOperationException($"Layer kind {layer.Kind} cannot be saved.");
            }

            writer.EndSection();
        }

        writer.Finish();
    }

    /// <summary>Reads a head written by <see cref="Save"/>, validating every field.</summary>
    /// <param name="stream">Source, left open.</param>
    /// <returns>The head.</returns>
    /// <exception cref="InvalidDataException">The data is truncated, corrupt or not an embedding head; the message names the field and byte offset.</exception>
    public static EmbeddingHead Load(Stream stream) => Load(stream, "embedding head stream");

    /// <summary>Reads a head written by <see cref="Save"/>, naming <paramref name="source"/> in errors.</summary>
    internal static EmbeddingHead Load(Stream stream, string source)
    {
        var reader = BinaryFormatReader.Open(stream, source);
        reader.ReadHeader(Signature, FormatVersion);

        reader.BeginSection("HEAD");
        int inputDimension = ReadDimension(reader, "inputDimension");
        long outputDimensionOffset = reader.Offset;
        int outputDimension = ReadDimension(reader, "outputDimension");
        long offset = reader.Offset;
        int layerCount = reader.ReadInt32("layerCount");
        if (layerCount < 1 || layerCount > MaxLayers)
        {
            throw reader.Error("layerCount", offset, $"{layerCount} is outside [1, {MaxLayers}]");
        }

        var kinds = new LayerKind[layerCount];
        for (int i = 0; i < layerCount; i++)
        {
            offset = reader.Offset;
            byte kind = reader.ReadByte($"layer kind [{i}]");
            kinds[i] = (LayerKind)kind;
            if (kinds[i] is not (LayerKind.Linear or LayerKind.ReLU or LayerKind.BatchNorm or LayerKind.L2Normalize))
            {
                throw reader.Error($"layer kind [{i}]", offset, $"{kind} is not a stored layer kind (1 Linear, 2 ReLU, 3 BatchNorm, 5 L2Normalize)");
            }
        }

        reader.EndSection();

        var layers = new Layer[layerCount];
        int width = inputDimension;
        for (int i = 0; i < layerCount; i++)
        {
            layers[i] = kinds[i] switch
            {
                LayerKind.Linear => ReadLinear(reader, i, width),
                LayerKind.BatchNorm => ReadBatchNorm(reader, i, width),
                LayerKind.ReLU => new ReLULayer(ReadWidth(reader, "RELU", i, width)),
                _ => new L2NormalizeLayer(ReadWidth(reader, "L2NM", i, width)),
            };
            width = layers[i].OutputDimension;
        }

        reader.VerifyChecksum();
        if (width != outputDimension)
        {
            throw reader.Error("outputDimension", outputDimensionOffset, $"the header declares {outputDimension} but the last layer outputs {width}");
        }

        return new EmbeddingHead(new FeedForwardNetwork(layers));
    }

    private static LinearLayer ReadLinear(BinaryFormatReader reader, int index, int width)
    {
        reader.BeginSection("LINR");
        long offset = reader.Offset;
        int inputs = ReadDimension(reader, $"layer {index} input dimension");
        if (inputs != width)
        {
            throw reader.Error($"layer {index} input dimension", offset, $"{inputs} does not match the {width} outputs of the layer before");
        }

        int outputs = ReadDimension(reader, $"layer {index} output dimension");
        reader.EnsureSectionHolds(((long)outputs * inputs) + outputs, sizeof(float), $"layer {index} weights and bias");
        var layer = new LinearLayer(inputs, outputs, $"layer{index}");
        reader.ReadSingles(layer.Weight.Values, $"layer {index} weight");
        reader.ReadSingles(layer.Bias.Values, $"layer {index} bias");
        reader.EndSection();
        return layer;
    }

    private static BatchNormLayer ReadBatchNorm(BinaryFormatReader reader, int index, int width)
    {
        reader.BeginSection("BNRM");
        int dimension = ReadMatchingWidth(reader, index, width);
        long offset = reader.Offset;
        var epsilon = new float[1];
        reader.ReadSingles(epsilon, $"layer {index} epsilon");
        if (!(epsilon[0] > 0f))
        {
            throw reader.Error($"layer {index} epsilon", offset, $"{epsilon[0]} is not positive");
        }

        reader.EnsureSectionHolds(4L * dimension, sizeof(float), $"layer {index} batch-norm statistics");
        var layer = new BatchNormLayer(dimension, 0.1f, epsilon[0], $"layer{index}");
        reader.ReadSingles(layer.Scale.Values, $"layer {index} scale");
        reader.ReadSingles(layer.Shift.Values, $"layer {index} shift");
        reader.ReadSingles(layer.RunningMean, $"layer {index} running mean");
        offset = reader.Offset;
        reader.ReadSingles(layer.RunningVariance, $"layer {index} running variance");
        for (int j = 0; j < dimension; j++)
        {
            if (layer.RunningVariance[j] < 0f)
            {
                throw reader.Error($"layer {index} running variance[{j}]", offset + (4L * j), $"{layer.RunningVariance[j]} is negative");
            }
        }

        reader.EndSection();
        return layer;
    }

    private static int ReadWidth(BinaryFormatReader reader, string fourcc, int index, int width)
    {
        reader.BeginSection(fourcc);
        int dimension = ReadMatchingWidth(reader, index, width);
        reader.EndSection();
        return dimension;
    }

    private static int ReadMatchingWidth(BinaryFormatReader reader, int index, int width)
    {
        long offset = reader.Offset;
        int dimension = ReadDimension(reader, $"layer {index} dimension");
        if (dimension != width)
        {
            throw reader.Error($"layer {index} dimension", offset, $"{dimension} does not match the {width} outputs of the layer before");
        }

        return dimension;
    }

    private static int ReadDimension(BinaryFormatReader reader, string field)
    {
        long offset = reader.Offset;
        int value = reader.ReadInt32(field);
        if (value < 1 || value > MaxDimension)
        {
            throw reader.Error(field, offset, $"{value} is outside [1, {MaxDimension}]");
        }

        return value;
    }
}
