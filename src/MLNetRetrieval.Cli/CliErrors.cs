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
