using System.CommandLine;
using System.CommandLine.Help;
using System.Text.RegularExpressions;

namespace MLNetRetrieval.Cli;

/// <summary>Entry point of <c>mlnet-retrieval</c>: parses the command line, runs one command and maps errors to exit codes.</summary>
internal static class Program
{
    /// <summary>The "[default: ...]" suffix that System.CommandLine's help appends to an option's description.</summary>
    private static readonly Regex HelpDefault = new(@"\[default: [^\]]*\]", RegexOptions.CultureInvariant);

    private static int Main(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // A second Ctrl+C keeps the default action, which ends the process at once.
            if (cancellation.IsCancellationRequested)
                return;

            // The first one keeps the process alive so the running command can stop at its next check and clean up.
            e.Cancel = true;
            Console.Error.WriteLine("Cancelling. Press Ctrl+C again to stop at once.");
            cancellation.Cancel();
        };
        return Run(args, Console.Out, Console.Error, cancellation.Token, interactive: !Console.IsErrorRedirected);
    }

    /// <summary>Runs the CLI in-process.</summary>
    /// <param name="args">Command-line arguments without the program name.</param>
    /// <param name="stdout">Receives results.</param>
    /// <param name="stderr">Receives errors, messages and progress bars.</param>
    /// <param name="cancellationToken">Stops long work; the run then returns <see cref="ExitCodes.Cancelled"/>.</param>
    /// <param name="interactive">Whether <paramref name="stderr"/> is a terminal that can show progress bars.</param>
    /// <returns>The process exit code: 0 success, 1 data error, 2 usage error, 130 cancelled.</returns>
    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default, bool interactive = false)
    {
        var console = new CliConsole(stdout, stderr, interactive);
        var context = new CliContext(console, cancellationToken);
        RootCommand root = CliCommands.CreateRoot(context);
        ParseResult parse = root.Parse(args);
        bool verbose = parse.GetValue(context.Verbose);
        console.Quiet = parse.GetValue(context.Quiet);

        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            string command = parse.CommandResult.Command == root ? "" : " " + parse.CommandResult.Command.Name;
            stderr.WriteLine($"error: {ModelFile.OneLine(parse.Errors[0].Message)} Run 'mlnet-retrieval{command} --help' for the options.");
            return ExitCodes.UsageError;
        }

        if (parse.Action is HelpAction)
        {
            // System.CommandLine 2.0.0 shows the default of a list option as "1|10|100"; users type "1,10,100".
            var help = new StringWriter();
            int helpExitCode = parse.Invoke(new InvocationConfiguration { Output = help, Error = stderr });
            stdout.Write(HelpDefault.Replace(help.ToString(), match => match.Value.Replace('|', ',')));
            return helpExitCode;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            });
        }
        catch (Exception e) when (Classify(e, cancellationToken) is int exitCode)
        {
            stderr.WriteLine(exitCode == ExitCodes.Cancelled ? "error: cancelled; no output file was written." : "error: " + MapLibraryHints(Describe(e), parse.CommandResult.Command));
            if (verbose)
                stderr.WriteLine(e.ToString());
            return exitCode;
        }
    }

    /// <summary>
    /// Rewrites the library's hints about its own option properties into the CLI option that does the
    /// same, and drops a hint for which the command has no option.
    /// </summary>
    private static string MapLibraryHints(string message, Command command)
    {
        bool hasFormat = command.Options.Any(option => option.Name == "--format");
        return message
            .Replace(", or set VectorReadOptions.Format.", hasFormat ? ", or pass --format." : ".", StringComparison.Ordinal)
            .Replace(", or set VectorReadOptions.RejectNonFinite = false to accept it.", ".", StringComparison.Ordinal)
            .Replace("use TieHandling.AsRanked", "use --ties as-ranked", StringComparison.Ordinal)
            .Replace("Set ImageEmbedderOptions.Preprocessing to match the model.",
                "Pass --image-size and --layout (and --channels, --mean, --std if needed) to match the model.", StringComparison.Ordinal)
            .Replace("or set ImageEmbedderOptions.ModelPath or ModelBytes and Preprocessing.",
                "or pass --model-onnx with the preprocessing options that fit that model.", StringComparison.Ordinal)
            .Replace("ImageEmbedderOptions.InputName", "--input-name", StringComparison.Ordinal)
            .Replace("ImageEmbedderOptions.OutputName", "--output-name", StringComparison.Ordinal);
    }

    /// <summary>
    /// Maps an exception to an exit code; every exception is reported, none escapes as a crash. An
    /// argument error that ML.NET wrapped while reading rows (a cursor or a worker thread) comes from
    /// the data, not from the command line, so it is a data error.
    /// </summary>
    private static int? Classify(Exception e, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested && ExceptionText.Contains<OperationCanceledException>(e))
            return ExitCodes.Cancelled;
        Exception cause = ExceptionText.FirstCause(e);
        return cause switch
        {
            UsageException => ExitCodes.UsageError,
            ArgumentException when cause == e => ExitCodes.UsageError,
            _ => ExitCodes.DataError,
        };
    }

    /// <summary>Returns the messages of the exception chain as one line, without ML.NET's generic wrapper messages.</summary>
    private static string Describe(Exception e)
    {
        string message = ExceptionText.Describe(e);
        Exception cause = ExceptionText.FirstCause(e);
        return cause is UsageException or ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException
            ? message
            : $"{message} ({cause.GetType().Name}; rerun with --verbose for details)";
    }
}

/// <summary>State shared by the commands of one run: the console, cancellation and the global options.</summary>
internal sealed class CliContext(CliConsole console, CancellationToken cancellationToken)
{
    public CliConsole Console { get; } = console;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print results as JSON on standard output instead of tables.",
        Recursive = true,
    };

    public Option<bool> Quiet { get; } = new("--quiet", "-q")
    {
        Description = "Hide progress bars and informational messages; results and errors still print.",
        Recursive = true,
    };

    public Option<bool> Verbose { get; } = new("--verbose")
    {
        Description = "On an error, also print the exception with its stack trace.",
        Recursive = true,
    };

    public static Option<int> CreateThreadsOption(string what) => new("--threads")
    {
        Description = $"Worker threads for {what}; 0 uses every core.",
        HelpName = "N",
        DefaultValueFactory = _ => 0,
        CustomParser = result => CliCommands.ParseInteger(result, 0, int.MaxValue, "--threads must be 0 (every core) or a positive number of threads"),
    };
}
