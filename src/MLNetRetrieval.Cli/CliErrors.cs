namespace MLNetRetrieval.Cli;

/// <summary>Process exit codes of the CLI.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>A file is missing, unreadable, corrupt or does not match the model.</summary>
    public const int DataError = 1;

    /// <summary>The command line is invalid: unknown option, bad value, contradicting options.</summary>
    public const int UsageError = 2;

    /// <summary>The user pressed Ctrl+C; 128 + SIGINT (2), as shells report it.</summary>
    public const int Cancelled = 130;
}

/// <summary>An invalid command line found after parsing, for example a k above the model's k; exits with code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// Error text from exception chains. ML.NET and reflection wrap the real error in generic messages
/// ("Exception has been thrown by the target of an invocation."), so the CLI skips those wrappers and
/// shows the messages that name the cause.
/// </summary>
internal static class ExceptionText
{
    /// <summary>Messages of ML.NET 6.0 wrapper exceptions that carry no information beyond their inner exception.</summary>
    private static readonly string[] WrapperMessages =
    [
        "Error during class instantiation",
        "Splitter/consolidator worker encountered exception while consuming source data",
    ];

    /// <summary>Returns the outermost exception of the chain that is not a generic wrapper, or <paramref name="e"/> when all are wrappers.</summary>
    public static Exception FirstCause(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (!IsWrapper(current))
                return current;
        }

        return e;
    }

    /// <summary>Whether the chain contains an exception of type <typeparamref name="T"/>.</summary>
    public static bool Contains<T>(Exception e)
        where T : Exception
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is T)
                return true;
        }

        return false;
    }

    /// <summary>
    /// Joins the one-line messages of the chain's non-wrapper exceptions, outermost first, skipping a
    /// message that an outer message already quotes, and without the " (Parameter 'x')" suffix of argument errors.
    /// </summary>
    public static string Describe(Exception e)
    {
        string text = "";
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (IsWrapper(current))
                continue;
            string message = current is ArgumentException { ParamName: { } name }
                ? current.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal)
                : current.Message;
            message = ModelFile.OneLine(message);
            if (message.Length == 0 || text.Contains(message, StringComparison.Ordinal))
                continue;
            text = text.Length == 0 ? message : text + (text.EndsWith('.') ? " " : ": ") + message;
        }

        return text.Length > 0 ? text : ModelFile.OneLine(e.Message);
    }

    /// <summary>Returns <paramref name="text"/> with a final period added when it ends without punctuation.</summary>
    public static string Sentence(string text) => text.Length == 0 || text[^1] is '.' or '!' or '?' ? text : text + ".";

    private static bool IsWrapper(Exception e) => e.InnerException is not null && e switch
    {
        System.Reflection.TargetInvocationException => true,
        AggregateException => true,
        TypeInitializationException => true,
        InvalidOperationException => Array.IndexOf(WrapperMessages, e.Message.TrimEnd('.')) >= 0,
        _ => false,
    };
}
