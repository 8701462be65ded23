using Sandbox.Images.Store;

namespace Sandbox.Tests.Images.Store;

/// <summary>The store's parsed-record cache: a hit only while the file is the same one, unchanged.</summary>
public sealed class StoreRecordCacheTests
{
    [Fact]
    public void An_unchanged_file_is_parsed_once_and_the_same_value_returned()
    {
        using var scratch = new ScratchDirectory();
        string path = scratch.Combine("record.json");
        File.WriteAllText(path, "one");
        var cache = new StoreRecordCache();
        int parses = 0;

        var first = cache.Read(path, bytes => { parses++; return new Parsed(System.Text.Encoding.ASCII.GetString(bytes)); });
        var second = cache.Read(path, bytes => { parses++; return new Parsed(System.Text.Encoding.ASCII.GetString(bytes)); });

        Assert.Equal("one", first!.Text);
        Assert.Same(first, second);
        Assert.Equal(1, parses);
    }

    [Fact]
    public void A_file_renamed_over_with_the_same_size_is_read_again()
    {
        using var scratch = new ScratchDirectory();
        string path = scratch.Combine("record.json");
        File.WriteAllText(path, "one");
        var cache = new StoreRecordCache();
        Assert.Equal("one", cache.Read(path, Parse)!.Text);

        string temp = scratch.Combine("record.tmp");
        File.WriteAllText(temp, "two");
        File.SetLastWriteTimeUtc(temp, File.GetLastWriteTimeUtc(path)); // the same size and mtime: only the inode tells them apart
        File.Move(temp, path, overwrite: true);

        Assert.Equal("two", cache.Read(path, Parse)!.Text);
    }

    [Fact]
    public void A_file_rewritten_in_place_is_read_again()
    {
        using var scratch = new ScratchDirectory();
        string path = scratch.Combine("record.json");
        File.WriteAllText(path, "one");
        var cache = new StoreRecordCache();
        Assert.Equal("one", cache.Read(path, Parse)!.Text);

        File.WriteAllText(path, "three");

        Assert.Equal("three", cache.Read(path, Parse)!.Text);
    }

    [Fact]
    public void A_removed_file_is_null_even_after_it_was_cached()
    {
        using var scratch = new ScratchDirectory();
        string path = scratch.Combine("record.json");
        File.WriteAllText(path, "one");
        var cache = new StoreRecordCache();
        Assert.NotNull(cache.Read(path, Parse));

        File.Delete(path);

        Assert.Null(cache.Read(path, Parse));
        Assert.Null(cache.Read(scratch.Combine("never.json"), Parse));
    }

    private static Parsed Parse(byte[] bytes) => new(System.Text.Encoding.ASCII.GetString(bytes));

    private sealed record Parsed(string Text);
}
