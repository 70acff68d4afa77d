using System.IO.Compression;
using MLNetRetrieval.Evaluation;
using Xunit;

namespace MLNetRetrieval.Tests.Evaluation;

/// <summary>
/// Leave-one-out retrieval on the first 1000 Fashion-MNIST test images, compared with the values that
/// tests/reference/retrieval_metrics.py prints for <c>--limit 1000</c>.
/// </summary>
public class FashionMnistEvaluationTests
{
    private const string DataDirectory = "/usr/share/datasets/fashion-mnist";
    private const int ImageCount = 1000;
    private const double Tolerance = 1e-6;

    [Fact]
    public void LeaveOneOutMatchesPythonReference()
    {
        byte[][] images = ReadIdx(Path.Combine(DataDirectory, "t10k-images-idx3-ubyte.gz"), 0x803, ImageCount, 28 * 28);
        byte[][] labelRows = ReadIdx(Path.Combine(DataDirectory, "t10k-labels-idx1-ubyte.gz"), 0x801, ImageCount, 1);
        string[] labels = labelRows.Select(row => row[0].ToString()).ToArray();
        long[] ids = Enumerable.Range(0, ImageCount).Select(i => (long)i).ToArray();
        var relevance = new LabelRelevance(ids, labels);

        var judged = new List<JudgedRanking>(ImageCount);
        for (int q = 0; q < ImageCount; q++)
        {
            RankedList ranking = RankByExactDistance(images, q);
            judged.Add(relevance.Judge(ranking, labels[q], leaveOneOut: true));
        }

        RankingReport report = RankingEvaluator.Evaluate(judged);

        // Printed by: /usr/bin/python3 tests/reference/retrieval_metrics.py --limit 1000
        Assert.Equal(0.736000, report.MeanRecall[0].Mean!.Value, Tolerance);
        Assert.Equal(0.966000, report.MeanRecall[1].Mean!.Value, Tolerance);
        Assert.Equal(0.998000, report.MeanRecall[2].Mean!.Value, Tolerance);
        Assert.Equal(0.452199, report.MeanAveragePrecision!.Value, Tolerance);
        Assert.Equal(0.307418, report.MeanMapAtR!.Value, Tolerance);
        Assert.Equal(ImageCount, report.EvaluatedQueryCount);
    }

    // Ranks every image by exact squared L2 to the query (integer arithmetic, so no rounding), ties by
    // lower index, the query itself included: LabelRelevance drops it under leave-one-out.
    private static RankedList RankByExactDistance(byte[][] images, int query)
    {
        var distances = new long[images.Length];
        for (int i = 0; i < images.Length; i++)
        {
            long sum = 0;
            for (int d = 0; d < images[i].Length; d++)
            {
                int difference = images[i][d] - images[query][d];
                sum += difference * difference;
            }

            distances[i] = sum;
        }

        long[] order = Enumerable.Range(0, images.Length).Select(i => (long)i)
            .OrderBy(i => distances[i]).ThenBy(i => i).ToArray();
        float[] orderedDistances = order.Select(i => (float)distances[i]).ToArray();
        return new RankedList(query, order, orderedDistances);
    }

    private static byte[][] ReadIdx(string path, int expectedMagic, int rowCount, int rowLength)
    {
        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new BinaryReader(stream);
        int magic = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(reader.ReadInt32());
        Assert.Equal(expectedMagic, magic);
        int dimensionCount = magic & 0xFF;
        for (int i = 0; i < dimensionCount; i++)
        {
            reader.ReadInt32();
        }

        var rows = new byte[rowCount][];
        for (int r = 0; r < rowCount; r++)
        {
            rows[r] = reader.ReadBytes(rowLength);
            Assert.Equal(rowLength, rows[r].Length);
        }

        return rows;
    }
}
