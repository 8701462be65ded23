using Sandbox.Images;
using Sandbox.Images.Oci;
using Sandbox.Images.Store;

// Usage: Sandbox.ImageImporter STORE SOURCE REFERENCE [SOURCE-NAME] [--wait-for FILE]
//        Sandbox.ImageImporter STORE --unpack REFERENCE [--wait-for FILE]
// Imports SOURCE-NAME from SOURCE into the store at STORE as REFERENCE; prints each layer's diff id.
// --unpack: unpacks the layers of REFERENCE (pulled without unpacking) the store keeps only as blobs; prints the
// diff id of each layer this process unpacked.
// --wait-for: spin until FILE exists first, so two importers start at the same moment.
string? waitFor = null;
bool unpack = false;
var positional = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--wait-for") waitFor = args[++i];
    else if (args[i] == "--unpack") unpack = true;
    else positional.Add(args[i]);
}
if (unpack ? positional.Count != 2 : positional.Count is < 3 or > 4)
{
    Console.Error.WriteLine("usage: Sandbox.ImageImporter STORE SOURCE REFERENCE [SOURCE-NAME] [--wait-for FILE] | STORE --unpack REFERENCE [--wait-for FILE]");
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
    if (unpack)
    {
        foreach (var layer in await store.UnpackAsync(ImageReference.Parse(positional[1]))) Console.WriteLine(layer);
        return 0;
    }
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
