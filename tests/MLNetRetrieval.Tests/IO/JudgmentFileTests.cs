using MLNetRetrieval.IO;
using Xunit;

namespace MLNetRetrieval.Tests.IO;

public sealed class JudgmentFileTests : IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void HeaderColumnsAnyOrder()
    {
        string path = _files.WriteText("j.csv", "grade,note,item_id,Query_Id\nPositive,x,5,1\nJUNK,,6,1\n2,,5,2\n");

        var rows = JudgmentFile.Read(path);

        Assert.Equal(3, rows.Count);
        Assert.Equal(new JudgmentRow(1, 5, "positive"), rows[0]);
        Assert.Equal(new JudgmentRow(1, 6, "junk"), rows[1]);
        Assert.Equal(new JudgmentRow(2, 5, "2"), rows[2]);
    }

    [Fact]
    public void NoHeaderUsesFirstColumns()
    {
        string path = _files.WriteText("j.csv", "3,4,easy\n3,5,Hard\n3,6,negative\n3,7,+02\n");

        var rows = JudgmentFile.Read(path);

        Assert.Equal(new[] { "easy", "hard", "negative", "2" }, rows.Select(r => r.Grade));
    }

    [Fact]
    public void NumericGradeParsed()
    {
        var row = new JudgmentRow(1, 2, "-1");

        Assert.Equal(-1, row.NumericGrade);
        Assert.Null(new JudgmentRow(1, 2, "easy").NumericGrade);
    }

    [Fact]
    public void UnknownGradeListsVocabulary()
    {
        string path = _files.WriteText("j.csv", "query_id,item_id,grade\n1,2,good\n");

        var error = Assert.Throws<InvalidDataException>(() => JudgmentFile.Read(path));

        Assert.Equal($"{path}: line 2, grade: value \"good\" is not a grade. Use positive, easy, hard, junk, negative or an integer.", error.Message);
    }

    [Fact]
    public void DuplicatePairRejected()
    {
        string path = _files.WriteText("j.csv", "1,2,easy\n1,3,hard\n1,2,junk\n");

        var error = Assert.Throws<InvalidDataException>(() => JudgmentFile.Read(path));

        Assert.Contains("line 3: query 1 and item 2 are already judged on line 1", error.Message);
    }

    [Fact]
    public void NegativeIdRejected()
    {
        string path = _files.WriteText("j.csv", "1,-2,easy\n");

        var error = Assert.Throws<InvalidDataException>(() => JudgmentFile.Read(path));

        Assert.Contains("line 1, item_id: value \"-2\" is not a non-negative 64-bit integer", error.Message);
    }

    [Fact]
    public void MissingColumnNamed()
    {
        string path = _files.WriteText("j.csv", "query,item_id,grade\n1,2,easy\n");

        var error = Assert.Throws<InvalidDataException>(() => JudgmentFile.Read(path));

        Assert.Contains("header has no 'query_id' column", error.Message);
    }

    [Fact]
    public void ShortRowRejected()
    {
        string path = _files.WriteText("j.csv", "1,2,easy\n1,3\n");

        var error = Assert.Throws<InvalidDataException>(() => JudgmentFile.Read(path));

        Assert.Contains("line 2 has 2 columns, but 3 are needed", error.Message);
    }

    [Fact]
    public void EmptyFileRejected()
    {
        string path = _files.WriteText("j.csv", "");

        var error = Assert.Throws<InvalidDataException>(() => JudgmentFile.Read(path));

        Assert.Contains("file is empty", error.Message);
    }
}
