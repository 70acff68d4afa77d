#:project ../MLNetRetrieval.Reports.csproj

// Runs the verification report on the Fashion-MNIST test split (raw pixels) until the CLI's
// `verify` command exists. Usage: dotnet run scripts/verify-fashion-mnist.cs -- [OUTPUT_DIR]
using MLNetRetrieval.Reports;

var options = new VerificationRunOptions { OutputDirectory = args.Length > 0 ? args[0] : "verification-report" };
VerificationReportRunner.Run(options, Console.Out);
