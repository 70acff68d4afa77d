using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.MetricLearning.Network;
using Xunit;

namespace MLNetRetrieval.Tests.MetricLearning;

/// <summary>
/// Save, load and inference of <see cref="EmbeddingHead"/>. The version 1 golden file contains the head of
/// <see cref="GoldenHead"/>: Linear(3 → 4), BatchNorm(4), ReLU, Linear(4 → 2), L2Normalize, with weights
/// from <see cref="Pattern"/> (eighths, exact in binary).
/// </summary>
public class EmbeddingHeadTests
{
    // Byte offsets in embedding-head-v1.bin: a 16-byte header, then each section is a fourcc and an i64
    // length (12 bytes) followed by its fields.
    private const int MinReaderVersionOffset = 12;
    private const int LayerCountOffset = 36;
    private const int ThirdKindOffset = 42;
    private const int RunningVarianceOffset = 197;
    private const int SecondLinearInputOffset = 241;
    private const int FirstWeightOffset = 65;
    private const int FileLength = 321;

    private static readonly float[][] Inputs = [[0.5f, -1f, 2f], [0f, 0f, 0f], [-3f, 0.25f, 1f]];

    [Fact]
    public void GoldenVersionOneLoads()
    {
        byte[] golden = File.ReadAllBytes(GoldenPath());
        EmbeddingHead head = EmbeddingHead.Load(new MemoryStream(golden));
        Assert.Equal(3, head.InputDimension);
        Assert.Equal(2, head.OutputDimension);
        Assert.True(head.IsNormalized);
        Assert.Equal(FileLength, golden.Length);
        Assert.Equal(golden, Save(head));
    }

    [Fact]
    public void GoldenHeadMatchesReference()
    {
        EmbeddingHead head = EmbeddingHead.Load(new MemoryStream(File.ReadAllBytes(GoldenPath())));
        float[] inputs = Inputs.SelectMany(row => row).ToArray();
        var outputs = new float[Inputs.Length * 2];
        head.Transform(inputs, outputs, threads: 1);
        for (int r = 0; r < Inputs.Length; r++)
        {
            double[] expected = Reference(Inputs[r]);
            Assert.Equal(expected[0], outputs[(r * 2) + 0], 5);
            Assert.Equal(expected[1], outputs[(r * 2) + 1], 5);
        }
    }

    [Fact]
    public void SavedHeadMatchesGoldenBytes()
    {
        Assert.Equal(File.ReadAllBytes(GoldenPath()), Save(GoldenHead()));
    }

    [Fact]
    public void TrainedHeadRoundTrips()
    {
        var random = new Random(9);
        var options = new MetricTrainerOptions { HiddenLayers = [24, 16], EmbeddingDimension = 8, BatchNormalization = true, DropoutRate = 0.2f };
        FeedForwardNetwork network = FeedForwardNetwork.Build(20, options, normalizeOutput: false, random);
        network.ForwardTraining(Network.GradientCheck.Gaussian(random, 30 * 20), 30, threads: 1);
        var head = new EmbeddingHead(network);
        EmbeddingHead loaded = EmbeddingHead.Load(new MemoryStream(Save(head)));

        float[] inputs = Network.GradientCheck.Gaussian(random, 700 * 20);
        var expected = new float[700 * 8];
        var actual = new float[700 * 8];
        head.Transform(inputs, expected, threads: 1);
        loaded.Transform(inputs, actual, threads: 2);
        Assert.Equal(expected, actual);
        Assert.DoesNotContain(loaded.Layers, layer => layer.Kind == LayerKind.Dropout);
    }

    [Fact]
    public void NewerReaderVersionRejected()
    {
        byte[] file = File.ReadAllBytes(GoldenPath());
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(MinReaderVersionOffset), 2);
        var error = Assert.Throws<InvalidDataException>(() => EmbeddingHead.Load(new MemoryStream(file)));
        Assert.Contains("upgrade MLNetRetrieval", error.Message);
    }

    [Fact]
    public void ZeroLayerCountRejected()
    {
        byte[] file = File.ReadAllBytes(GoldenPath());
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(LayerCountOffset), 0);
        var error = Assert.Throws<InvalidDataException>(() => EmbeddingHead.Load(new MemoryStream(file)));
        Assert.Contains($"layerCount at byte offset {LayerCountOffset}", error.Message);
    }

    [Fact]
    public void UnknownLayerKindRejected()
    {
        byte[] file = File.ReadAllBytes(GoldenPath());
        file[ThirdKindOffset] = 9;
        var error = Assert.Throws<InvalidDataException>(() => EmbeddingHead.Load(new MemoryStream(file)));
        Assert.Contains($"layer kind [2] at byte offset {ThirdKindOffset}", error.Message);
    }

    [Fact]
    public void NegativeVarianceRejected()
    {
        byte[] file = File.ReadAllBytes(GoldenPath());
        BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(RunningVarianceOffset), -1f);
        var error = Assert.Throws<InvalidDataException>(() => EmbeddingHead.Load(new MemoryStream(file)));
        Assert.Contains($"running variance[0] at byte offset {RunningVarianceOffset}", error.Message);
    }

    [Fact]
    public void LayerWidthMismatchRejected()
    {
        byte[] file = File.ReadAllBytes(GoldenPath());
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(SecondLinearInputOffset), 5);
        var error = Assert.Throws<InvalidDataException>(() => EmbeddingHead.Load(new MemoryStream(file)));
        Assert.Contains($"layer 3 input dimension at byte offset {SecondLinearInputOffset}", error.Message);
    }

    [Fact]
    public void FlippedWeightFailsChecksum()
    {
        byte[] file = File.ReadAllBytes(GoldenPath());
        file[FirstWeightOffset] ^= 1;
        var error = Assert.Throws<InvalidDataException>(() => EmbeddingHead.Load(new MemoryStream(file)));
        Assert.Contains("CRC-32", error.Message);
    }

    [Fact]
    public void TruncatedFileRejected()
    {
        byte[] file = File.ReadAllBytes(GoldenPath());
        var error = Assert.Throws<InvalidDataException>(() => EmbeddingHead.Load(new MemoryStream(file.AsSpan(0, 150).ToArray())));
        Assert.Contains("section length", error.Message);
    }

    [Fact]
    public void TransformRejectsWrongOutputLength()
    {
        EmbeddingHead head = GoldenHead();
        var error = Assert.Throws<ArgumentException>(() => head.Transform(new float[6], new float[3]));
        Assert.Contains("2 rows", error.Message);
    }

    /// <summary>Weight i of a pattern: eighths in [−0.625, 0.625], exact in binary.</summary>
    private static float Pattern(int i, int salt) => (((i * 7) + salt) % 11 - 5) / 8f;

    private static EmbeddingHead GoldenHead()
    {
        var first = new LinearLayer(3, 4, "layer0");
        var norm = new BatchNormLayer(4, 0.1f, 1e-5f, "layer1");
        var second = new LinearLayer(4, 2, "layer3");
        Fill(first.Weight.Values, 1);
        Fill(first.Bias.Values, 2);
        Fill(norm.Scale.Values, 3);
        Fill(norm.Shift.Values, 4);
        Fill(norm.RunningMean, 5);
        for (int j = 0; j < 4; j++)
        {
            norm.RunningVariance[j] = 0.5f + (j * 0.25f);
        }

        Fill(second.Weight.Values, 6);
        Fill(second.Bias.Values, 7);
        return new EmbeddingHead(new FeedForwardNetwork([first, norm, new ReLULayer(4), second, new L2NormalizeLayer(2)]));
    }

    private static void Fill(float[] values, int salt)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Pattern(i, salt);
        }
    }

    /// <summary>The golden head evaluated in double, layer by layer, from <see cref="Pattern"/>.</summary>
    private static double[] Reference(float[] x)
    {
        var hidden = new double[4];
        for (int o = 0; o < 4; o++)
        {
            double sum = Pattern(o, 2);
            for (int i = 0; i < 3; i++)
            {
                sum += Pattern((o * 3) + i, 1) * x[i];
            }

            double normalized = (sum - Pattern(o, 5)) / Math.Sqrt(0.5 + (o * 0.25) + 1e-5);
            hidden[o] = Math.Max(0, (Pattern(o, 3) * normalized) + Pattern(o, 4));
        }

        var output = new double[2];
        for (int o = 0; o < 2; o++)
        {
            output[o] = Pattern(o, 7);
            for (int i = 0; i < 4; i++)
            {
                output[o] += Pattern((o * 4) + i, 6) * hidden[i];
            }
        }

        double norm = Math.Max(Math.Sqrt((output[0] * output[0]) + (output[1] * output[1])), 1e-12);
        return [output[0] / norm, output[1] / norm];
    }

    private static byte[] Save(EmbeddingHead head)
    {
        using var stream = new MemoryStream();
        head.Save(stream);
        return stream.ToArray();
    }

    private static string GoldenPath([CallerFilePath] string sourcePath = "") =>
        Path.Combine(Path.GetDirectoryName(sourcePath)!, "Golden", "embedding-head-v1.bin");
}
