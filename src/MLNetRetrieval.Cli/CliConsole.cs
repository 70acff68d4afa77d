using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace MLNetRetrieval.Cli;

/// <summary>
/// Output channels of one CLI run: results go to standard output, messages and progress bars to
/// standard error.
/// </summary>
internal sealed class CliConsole
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly bool _progressAllowed;
    private readonly IAnsiConsole _results;
    private readonly IAnsiConsole _messages;

    /// <param name="output">Receives results: tables, JSON, CSV written to "-".</param>
    /// <param name="error">Receives messages, errors and progress bars.</param>
    /// <param name="interactive">Whether <paramref name="error"/> is a terminal, so progress bars can redraw in place.</param>
    public CliConsole(TextWriter output, TextWriter error, bool interactive)
    {
        Out = output;
        Error = error;
        _progressAllowed = interactive;
        _results = CreateConsole(output, ansi: false);
        _messages = CreateConsole(error, ansi: interactive);
    }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    /// <summary>Suppresses progress bars and informational messages; results and errors still print.</summary>
    public bool Quiet { get; set; }

    public bool ShowsProgress => _progressAllowed && !Quiet;

    /// <summary>Writes an informational line to standard error unless <see cref="Quiet"/> is set.</summary>
    public void Info(string message)
    {
        if (!Quiet)
            Error.WriteLine(message);
    }

    /// <summary>Creates a table in the style of every CLI table (rounded border).</summary>
    public static Table CreateTable() => new Table().Border(TableBorder.Rounded);

    /// <summary>Writes a table or other renderable to standard output, without colors or ANSI codes.</summary>
    public void Write(IRenderable renderable) => _results.Write(renderable);

    /// <summary>Serializes <paramref name="value"/> as indented camel-case JSON to standard output.</summary>
    public void WriteJson<T>(T value) => Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>
    /// Runs <paramref name="work"/> with a progress bar on standard error when progress is shown, and
    /// with a sink that ignores every report otherwise.
    /// </summary>
    public T RunWithProgress<T>(string description, long total, Func<IProgressSink, T> work)
    {
        if (!ShowsProgress)
            return work(NullProgressSink.Instance);

        return _messages.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context => work(new SpectreProgressSink(context.AddTask(description, maxValue: Math.Max(1, total)))));
    }

    private static IAnsiConsole CreateConsole(TextWriter writer, bool ansi) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(writer),
        Ansi = ansi ? AnsiSupport.Detect : AnsiSupport.No,
        ColorSystem = ansi ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        Interactive = ansi ? InteractionSupport.Detect : InteractionSupport.No,
    });

    private sealed class SpectreProgressSink(ProgressTask task) : IProgressSink
    {
        public void Advance(long units) => task.Increment(units);

        public void Restart(string description, long total)
        {
            task.Description = description;
            task.MaxValue = Math.Max(1, total);
            task.Value = 0;
        }

        public void Set(long done) => task.Value = done;
    }

    private sealed class NullProgressSink : IProgressSink
    {
        public static readonly NullProgressSink Instance = new();

        public void Advance(long units)
        {
        }

        public void Restart(string description, long total)
        {
        }

        public void Set(long done)
        {
        }
    }
}

/// <summary>Receiver of progress for one bar; every member is a no-op when progress is hidden.</summary>
internal interface IProgressSink
{
    /// <summary>Adds <paramref name="units"/> finished units.</summary>
    void Advance(long units);

    /// <summary>Relabels the bar for a new phase of <paramref name="total"/> units and sets it to 0.</summary>
    void Restart(string description, long total);

    /// <summary>Sets the number of finished units.</summary>
    void Set(long done);
}
