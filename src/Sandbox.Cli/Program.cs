using System.CommandLine;
using Sandbox.Cli;

var root = new RootCommand("sandbox: run untrusted programs in isolated Linux namespaces.");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(DoctorCommand.Create());
root.Subcommands.Add(PullCommand.Create());
root.Subcommands.Add(PushCommand.Create());
root.Subcommands.Add(ImagesCommand.Create());
root.Subcommands.Add(RmiCommand.Create());
root.Subcommands.Add(ImportCommand.Create());

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
        Console.Error.WriteLine($"sandbox: {error.Message}");
    Console.Error.WriteLine("Run 'sandbox --help' for usage.");
    return ExitCodes.Usage;
}
return await parse.InvokeAsync();
