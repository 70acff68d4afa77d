using System.CommandLine;
using MLNetRetrieval.IO;

namespace MLNetRetrieval.Cli;

/// <summary>
/// Options that locate one vector file and its ids and labels, shared by the index, search and
/// evaluate commands.
/// </summary>
internal sealed class VectorInputOptions
{
    private static readonly string[] FormatNames = ["auto", "csv", "fvecs", "ivecs", "bvecs", "npy", "idx"];

    /// <param name="pathOptionName">Name of the option that gives the vector file.</param>
    /// <param name="pathDescription">Help text of that option.</param>
    /// <param name="required">
    /// Whether the parser requires the file option. Commands that also take images pass false and
    /// check with <see cref="RequireOneSource"/> that exactly one of the two is given.
    /// </param>
    public VectorInputOptions(string pathOptionName, string pathDescription, bool required = true)
    {
        Path = new Option<string>(pathOptionName)
        {
            Description = pathDescription,
            HelpName = "FILE",
            Required = required,
        };
        Format = new Option<string>("--format")
        {
            Description = $"Format of {pathOptionName}. 'auto' detects it from the first bytes and the extension (.csv, .tsv, .txt, .fvecs, .ivecs, .bvecs, .npy, IDX, optionally .gz for CSV and IDX).",
            DefaultValueFactory = _ => "auto",
        };
        Format.AcceptOnlyFromAmong(FormatNames);
        Labels = new Option<string?>("--labels")
        {
            Description = "File with one label per vector, in row order: text with one label per line, a 1-D .npy array or a 1-D IDX file.",
            HelpName = "FILE",
        };
        Ids = new Option<string?>("--ids")
        {
            Description = "File with one integer id per vector (>= 0, unique), in row order: text with one id per line, a 1-D integer .npy or IDX array. Default: row numbers from 0.",
            HelpName = "FILE",
        };
        IdColumn = new Option<string?>("--id-column")
        {
            Description = "CSV only: header name of the column with integer ids (>= 0, unique). Default: row numbers from 0.",
            HelpName = "NAME",
        };
        LabelColumn = new Option<string?>("--label-column")
        {
            Description = "CSV only: header name of the column with labels.",
            HelpName = "NAME",
        };
    }

    public Option<string> Path { get; }

    public Option<string> Format { get; }

    public Option<string?> Labels { get; }

    public Option<string?> Ids { get; }

    public Option<string?> IdColumn { get; }

    public Option<string?> LabelColumn { get; }

    public void AddTo(Command command)
    {
        command.Add(Path);
        command.Add(Format);
        command.Add(Labels);
        command.Add(Ids);
        command.Add(IdColumn);
        command.Add(LabelColumn);
    }

    /// <summary>
    /// Checks that the command line gives either the vector file or the image source
    /// (<paramref name="imageOptions"/>), and no vector-file option together with images.
    /// </summary>
    /// <exception cref="UsageException">Neither or both sources are given, or a vector-file option is given with images.</exception>
    public void RequireOneSource(ParseResult parse, bool imagesGiven, string imageOptions)
    {
        bool fileGiven = parse.GetValue(Path) is not null;
        if (!fileGiven && !imagesGiven)
            throw new UsageException($"Pass {Path.Name} FILE for vectors or {imageOptions} for images.");
        if (!imagesGiven)
            return;
        if (fileGiven)
            throw new UsageException($"{Path.Name} and {imageOptions} both give the input; pass only one of them.");
        if (new Option[] { Format, Labels, Ids, IdColumn, LabelColumn }.FirstOrDefault(option => parse.GetResult(option) is { Implicit: false }) is { } stray)
            throw new UsageException($"{stray.Name} describes a vector file and does not apply to {imageOptions}; drop {stray.Name}.");
    }

    /// <summary>Reads the vectors with ids and labels as the parsed options describe.</summary>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt; the message names the file and the place.</exception>
    public VectorSet Read(ParseResult parse)
    {
        string path = parse.GetValue(Path)!;
        string? idsPath = parse.GetValue(Ids);
        string? labelsPath = parse.GetValue(Labels);
        string? idColumn = parse.GetValue(IdColumn);
        string? labelColumn = parse.GetValue(LabelColumn);
        if (idsPath is not null && idColumn is not null)
            throw new UsageException("--ids and --id-column both set the ids; pass only one of them.");
        if (labelsPath is not null && labelColumn is not null)
            throw new UsageException("--labels and --label-column both set the labels; pass only one of them.");

        var options = new VectorReadOptions
        {
            Format = ParseFormat(parse.GetValue(Format)!),
            IdsPath = idsPath,
            LabelsPath = labelsPath,
            IdColumn = idColumn,
            LabelColumn = labelColumn,
        };
        return VectorFile.Read(path, options);
    }

    private static VectorFileFormat? ParseFormat(string name) => name switch
    {
        "auto" => null,
        "csv" => VectorFileFormat.Csv,
        "fvecs" => VectorFileFormat.Fvecs,
        "ivecs" => VectorFileFormat.Ivecs,
        "bvecs" => VectorFileFormat.Bvecs,
        "npy" => VectorFileFormat.Npy,
        "idx" => VectorFileFormat.Idx,
        _ => throw new UsageException($"--format '{name}' is not a known format; use one of {string.Join(", ", FormatNames)}."),
    };
}
