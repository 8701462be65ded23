using Sandbox.Images;
using Sandbox.Images.Oci;
using Sandbox.Images.Store;

// Usage: Sandbox.ImageImporter STORE SOURCE REFERENCE [SOURCE-NAME] [--wait-for FILE]
// Imports SOURCE-NAME from SOURCE into the store at STORE as REFERENCE; prints each layer's diff id.
// --wait-for: spin until FILE exists first, so two importers start at the same moment.
string? waitFor = null;
var positional = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--wait-for") waitFor = args[++i];
    else positional.Add(args[i]);
}
if (positional.Count is < 3 or > 4)
{
    Console.Error.WriteLine("usage: Sandbox.ImageImporter STORE SOURCE REFERENCE [SOURCE-NAME] [--wait-for FILE]");
    return 2;
}
if (waitFor is not null)
{
    var deadline = DateTime.UtcNow.AddSeconds(30);
    while (!File.Exists(waitFor) && DateTime.UtcNow < deadline) Thread.SpinWait(1000);
}
try
{
    var store = ImageStore.Open(new ImageStoreOptions { Root = positional[0] });
    using var source = ImageSource.Open(positional[1]);
    var image = await store.ImportAsync(source, ImageReference.Parse(positional[2]), positional.Count > 3 ? positional[3] : null);
    foreach (var layer in image.Layers) Console.WriteLine(layer);
    return 0;
}
catch (Sandbox.SandboxException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}
