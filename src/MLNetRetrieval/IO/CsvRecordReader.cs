namespace MLNetRetrieval.IO;

/// <summary>
/// Streaming RFC 4180 record reader: quoted fields may contain the delimiter, line breaks and doubled quotes.
/// </summary>
/// <remarks>
/// Fields of the current record are kept in one reused char buffer, so reading a large file allocates per record
/// only when a record is longer than any before it. Empty lines are skipped. Line numbers are 1-based and count
/// line breaks inside quoted fields.
/// </remarks>
internal sealed class CsvRecordReader : IDisposable
{
    private readonly TextReader _reader;
    private readonly string _path;
    private readonly char _delimiter;
    private readonly char[] _input = new char[1 << 16];
    private readonly List<(int Start, int Length)> _fields = [];
    private char[] _chars = new char[256];
    private int _charCount;
    private int _inputLength;
    private int _inputPosition;
    private int _line = 1;

    public CsvRecordReader(TextReader reader, string path, char delimiter)
    {
        if (delimiter is '"' or '\r' or '\n')
        {
            throw new ArgumentOutOfRangeException(nameof(delimiter), delimiter, "The CSV delimiter cannot be a quote or a line break. Use a comma, semicolon or tab.");
        }

        _reader = reader;
        _path = path;
        _delimiter = delimiter;
    }

    /// <summary>Line on which the current record starts (1-based).</summary>
    public int RecordLine { get; private set; }

    public int FieldCount => _fields.Count;

    public ReadOnlySpan<char> this[int index] => _chars.AsSpan(_fields[index].Start, _fields[index].Length);

    public string GetString(int index) => new(this[index]);

    /// <summary>
    /// Reads the next non-empty record. Returns false at the end of the input.
    /// </summary>
    public bool ReadRecord()
    {
        while (true)
        {
            _fields.Clear();
            _charCount = 0;
            RecordLine = _line;
            int c = Read();
            if (c < 0)
            {
                return false;
            }

            if (c is '\n' or '\r')
            {
                EndLine(c);
                continue;
            }

            ReadFields(c);
            return true;
        }
    }

    public void Dispose() => _reader.Dispose();

    private void ReadFields(int c)
    {
        while (true)
        {
            int start = _charCount;
            int end = c == '"' ? ReadQuotedField() : ReadUnquotedField(ref c);
            _fields.Add((start, _charCount - start));
            if (end == _delimiter)
            {
                c = Read();
                continue;
            }

            if (end >= 0)
            {
                EndLine(end);
            }

            return;
        }
    }

    /// <summary>Reads an unquoted field that starts with <paramref name="c"/> and returns the character that ended it (-1 at the end of input).</summary>
    private int ReadUnquotedField(ref int c)
    {
        while (c >= 0 && c != _delimiter && c != '\n' && c != '\r')
        {
            if (c == '"')
            {
                throw FileErrors.Invalid(
                    _path,
                    $"line {_line}: quote character inside the unquoted field {_fields.Count + 1}. Enclose the whole field in quotes and double any quote inside it.");
            }

            Append((char)c);
            c = Read();
        }

        return c;
    }

    private int ReadQuotedField()
    {
        int startLine = _line;
        while (true)
        {
            int c = Read();
            if (c < 0)
            {
                throw FileErrors.Invalid(_path, $"line {startLine}: quoted field {_fields.Count + 1} is not closed before the end of the file. Add the closing quote.");
            }

            if (c == '"')
            {
                if (Peek() == '"')
                {
                    Read();
                    Append('"');
                    continue;
                }

                int next = Read();
                if (next >= 0 && next != _delimiter && next != '\n' && next != '\r')
                {
                    throw FileErrors.Invalid(
                        _path,
                        $"line {_line}: character '{(char)next}' follows the closing quote of field {_fields.Count + 1}. Put the delimiter right after the closing quote, or double quotes inside the field.");
                }

                return next;
            }

            if (c == '\n' || (c == '\r' && Peek() != '\n'))
            {
                _line++;
            }

            Append((char)c);
        }
    }

    private void EndLine(int c)
    {
        if (c == '\r' && Peek() == '\n')
        {
            Read();
        }

        _line++;
    }

    private void Append(char c)
    {
        if (_charCount == _chars.Length)
        {
            Array.Resize(ref _chars, _chars.Length * 2);
        }

        _chars[_charCount++] = c;
    }

    private int Read()
    {
        if (_inputPosition == _inputLength && !Fill())
        {
            return -1;
        }

        return _input[_inputPosition++];
    }

    private int Peek()
    {
        if (_inputPosition == _inputLength && !Fill())
        {
            return -1;
        }

        return _input[_inputPosition];
    }

    private bool Fill()
    {
        _inputLength = _reader.Read(_input, 0, _input.Length);
        _inputPosition = 0;
        return _inputLength > 0;
    }
}
