using MLNetRetrieval.IO;
using Xunit;

namespace MLNetRetrieval.Tests.IO;

public sealed class CsvVectorReaderTests : IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void HeaderDetectedFromText()
    {
        string path = _files.WriteText("v.csv", "x,y\n1,2\n3,4\n");

        var read = VectorFile.Read(path);

        Assert.Equal(2, read.Count);
        Assert.Equal(new float[] { 1, 2, 3, 4 }, read.Values);
    }

    [Fact]
    public void NoHeaderWhenAllNumbers()
    {
        string path = _files.WriteText("v.csv", "1,2e1\r\n-3.5,4\r\n");

        var read = VectorFile.Read(path);

        Assert.Equal(new float[] { 1, 20, -3.5f, 4 }, read.Values);
    }

    [Fact]
    public void ColumnsByIndexWithoutHeader()
    {
        string path = _files.WriteText("v.csv", "7,\"cat, grey\",0.5,1\n3,dog,2,3\n");

        var read = VectorFile.Read(path, new VectorReadOptions { IdColumnIndex = 0, LabelColumnIndex = 1 });

        Assert.Equal(new long[] { 7, 3 }, read.Ids);
        Assert.Equal(new[] { "cat, grey", "dog" }, read.Labels);
        Assert.Equal(new float[] { 0.5f, 1, 2, 3 }, read.Values);
    }

    [Fact]
    public void ColumnsByNameAnyCase()
    {
        string path = _files.WriteText("v.csv", "A,Name,ID,B\n1,\"say \"\"hi\"\"\",10,2\n");

        var read = VectorFile.Read(path, new VectorReadOptions { IdColumn = "id", LabelColumn = "name" });

        Assert.Equal(new long[] { 10 }, read.Ids);
        Assert.Equal(new[] { "say \"hi\"" }, read.Labels);
        Assert.Equal(new float[] { 1, 2 }, read.Values);
    }

    [Fact]
    public void SemicolonDelimiter()
    {
        string path = _files.WriteText("v.csv", "1.5;2\n3;4\n");

        var read = VectorFile.Read(path, new VectorReadOptions { Delimiter = ';' });

        Assert.Equal(new float[] { 1.5f, 2, 3, 4 }, read.Values);
    }

    [Fact]
    public void BlankLinesSkipped()
    {
        string path = _files.WriteText("v.csv", "1,2\n\n3,4\n\n");

        var read = VectorFile.Read(path);

        Assert.Equal(2, read.Count);
    }

    [Fact]
    public void RowWidthMismatchNamesLine()
    {
        string path = _files.WriteText("v.csv", "1,2,3\n4,5,6\n7,8\n");

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Equal($"{path}: line 3 has 2 columns, but the first row has 3. Every row must have the same number of columns.", error.Message);
    }

    [Fact]
    public void NonNumericCellNamesColumn()
    {
        string path = _files.WriteText("v.csv", "a,b\n1,2\n3,x7\n");

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Equal(
            $"{path}: line 3, column 1 ('b'): value \"x7\" is not a number. Write components as invariant-culture numbers such as 0.5 or -1.25e-3, or name the id and label columns.",
            error.Message);
    }

    [Fact]
    public void CommaDecimalRejected()
    {
        string path = _files.WriteText("v.csv", "1;2\n3,5;4\n");

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path, new VectorReadOptions { Delimiter = ';', Header = CsvHeaderMode.Absent }));

        Assert.Contains("line 2, column 0: value \"3,5\" is not a number", error.Message);
    }

    [Fact]
    public void NaNCellRejected()
    {
        string path = _files.WriteText("v.csv", "1,2\n3,NaN\n");

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Contains("line 2, column 1: value \"NaN\" is not finite", error.Message);
    }

    [Fact]
    public void OverflowCellRejected()
    {
        string path = _files.WriteText("v.csv", "1,1e39\n");

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Contains("value \"1e39\" is not finite", error.Message);
    }

    [Fact]
    public void EmptyCellRejected()
    {
        string path = _files.WriteText("v.csv", "1,2\n3,\n");

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Contains("line 2, column 1: is empty", error.Message);
    }

    [Fact]
    public void DuplicateIdNamesBothLines()
    {
        string path = _files.WriteText("v.csv", "id,x\n5,1\n6,2\n5,3\n");

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path, new VectorReadOptions { IdColumn = "id" }));

        Assert.Equal($"{path}: line 4: id 5 already appears on line 2. Ids must be unique.", error.Message);
    }

    [Fact]
    public void NegativeIdRejected()
    {
        string path = _files.WriteText("v.csv", "id,x\n-1,1\n");

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path, new VectorReadOptions { IdColumn = "id" }));

        Assert.Contains("id -1 is negative", error.Message);
    }

    [Fact]
    public void MissingNamedColumnListsHeader()
    {
        string path = _files.WriteText("v.csv", "a,b\n1,2\n");

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path, new VectorReadOptions { LabelColumn = "label" }));

        Assert.Equal($"{path}: header has no label column 'label'. The header columns are: a, b.", error.Message);
    }

    [Fact]
    public void UnclosedQuoteNamesLine()
    {
        string path = _files.WriteText("v.csv", "1,2,x\n3,4,\"open\n5,6,y\n");

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path, new VectorReadOptions { LabelColumnIndex = 2 }));

        Assert.Contains("line 2: quoted field 3 is not closed", error.Message);
    }

    [Fact]
    public void HeaderOnlyRejected()
    {
        string path = _files.WriteText("v.csv", "a,b\n");

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Contains("no data rows", error.Message);
    }

    [Fact]
    public void LabelColumnAndFileConflict()
    {
        string path = _files.WriteText("v.csv", "1,2\n");

        Assert.Throws<ArgumentException>(() => VectorFile.Read(path, new VectorReadOptions { LabelColumnIndex = 0, LabelsPath = path }));
    }

    [Fact]
    public void LargeCsvMatchesFvecs()
    {
        const int count = 3000, dimension = 64;
        float[] values = TestFiles.RandomFloats(count * dimension, seed: 8);
        string csv = _files.PathOf("big.csv");
        VectorFile.WriteCsv(csv, new VectorSet(values, count, dimension));

        var read = VectorFile.Read(csv);

        Assert.Equal(count, read.Count);
        Assert.Equal(values, read.Values);
    }
}
