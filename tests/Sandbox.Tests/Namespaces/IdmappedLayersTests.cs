using Sandbox.Namespaces;
using Sandbox.Tests.Fakes;

namespace Sandbox.Tests.Namespaces;

/// <summary>Root's layers idmapped per mapping: made once while sandboxes hold them, copied per launch, closed by the last holder.</summary>
public sealed class IdmappedLayersTests
{
    private const string Map = "0 524288 65536\n";
    private static readonly string[] Lowers = ["/store/layers/c/diff", "/store/layers/b/diff", "/store/layers/a/diff"];

    private static FakeSyscalls Kernel() => new(0, _ => throw new InvalidOperationException("no launch here"));

    [Fact]
    public void A_mapping_gets_one_user_namespace_and_one_idmapped_mount_per_layer_made_with_it()
    {
        var kernel = Kernel();
        var layers = new IdmappedLayers(kernel, TimeSpan.Zero);

        using var lease = layers.Acquire(Map, Map, Lowers);

        var userNs = Assert.Single(kernel.UserNamespaces);
        Assert.Equal((Map, Map), (userNs.UidMap, userNs.GidMap));
        Assert.Equal(Lowers, kernel.IdmappedTrees.Select(t => t.Directory));
        Assert.All(kernel.IdmappedTrees, t => Assert.Same(userNs.Handle, t.UserNamespace));
        Assert.Equal(1, layers.OpenMappings);
    }

    [Fact]
    public void Sandboxes_that_overlap_share_the_namespace_and_the_mounts_and_the_last_holder_of_each_closes_it()
    {
        var kernel = Kernel();
        var layers = new IdmappedLayers(kernel, TimeSpan.Zero);

        var first = layers.Acquire(Map, Map, Lowers);
        var second = layers.Acquire(Map, Map, [Lowers[0], "/store/layers/d/diff"]);
        first.Dispose();
        first.Dispose(); // once only
        var open = kernel.IdmappedTrees.Where(t => !t.Tree.IsClosed).Select(t => t.Directory);
        Assert.Equal([Lowers[0], "/store/layers/d/diff"], open);
        Assert.Equal((1, 2), (layers.OpenMappings, layers.OpenLayers));
        second.Dispose();

        Assert.Single(kernel.UserNamespaces);
        Assert.Equal([.. Lowers, "/store/layers/d/diff"], kernel.IdmappedTrees.Select(t => t.Directory));
        Assert.Equal((0, 0), (layers.OpenMappings, layers.OpenLayers));
        Assert.True(kernel.UserNamespaces[0].Handle.IsClosed);
        Assert.All(kernel.IdmappedTrees, t => Assert.True(t.Tree.IsClosed, $"{t.Directory} is still open."));
    }

    [Fact]
    public void Another_mapping_gets_its_own_namespace_and_mounts()
    {
        var kernel = Kernel();
        var layers = new IdmappedLayers(kernel, TimeSpan.Zero);

        using var first = layers.Acquire(Map, Map, Lowers);
        using var second = layers.Acquire("0 100000 65536\n", "0 200000 65536\n", Lowers);

        Assert.Equal(2, kernel.UserNamespaces.Count);
        Assert.Equal(6, kernel.IdmappedTrees.Count);
        Assert.Equal(2, layers.OpenMappings);
    }

    [Fact]
    public void A_launch_gets_a_fresh_copy_of_each_lower_layer_in_order_a_layer_named_twice_included()
    {
        var kernel = Kernel();
        var layers = new IdmappedLayers(kernel, TimeSpan.Zero);
        string[] lowers = [Lowers[0], Lowers[1], Lowers[0]];
        using var lease = layers.Acquire(Map, Map, lowers);

        var one = lease.CloneForLaunch();
        var two = lease.CloneForLaunch();

        Assert.Equal(2, kernel.IdmappedTrees.Count);
        var tree = kernel.IdmappedTrees.ToDictionary(t => t.Directory, t => t.Tree);
        Assert.Equal(lowers.Select(d => tree[d]), kernel.TreeCopies.Take(3).Select(c => c.Tree));
        Assert.Equal(one, kernel.TreeCopies.Take(3).Select(c => c.Copy));
        Assert.Equal(two, kernel.TreeCopies.Skip(3).Select(c => c.Copy));
        Assert.Empty(one.Intersect(two));
    }

    [Fact]
    public void A_layer_the_kernel_refuses_to_idmap_leaves_nothing_open_and_a_released_lease_copies_nothing()
    {
        var kernel = Kernel();
        kernel.RefuseIdmapOf = Lowers[2];
        var layers = new IdmappedLayers(kernel, TimeSpan.Zero);

        var thrown = Assert.Throws<SandboxException>(() => layers.Acquire(Map, Map, Lowers));

        Assert.Contains(Lowers[2], thrown.Message, StringComparison.Ordinal);
        Assert.Equal(0, layers.OpenMappings);
        Assert.True(kernel.UserNamespaces.Single().Handle.IsClosed);
        Assert.All(kernel.IdmappedTrees, t => Assert.True(t.Tree.IsClosed));

        kernel.RefuseIdmapOf = null;
        var lease = layers.Acquire(Map, Map, Lowers);
        lease.Dispose();
        Assert.Throws<ObjectDisposedException>(() => lease.CloneForLaunch());
    }

    [Fact]
    public void A_layer_nobody_holds_stays_open_for_the_idle_timeout_and_a_sandbox_within_it_reuses_it()
    {
        var kernel = Kernel();
        var clock = new ManualTimeProvider();
        var layers = new IdmappedLayers(kernel, TimeSpan.FromSeconds(1), clock);

        layers.Acquire(Map, Map, Lowers).Dispose();
        clock.Advance(TimeSpan.FromMilliseconds(900));
        var again = layers.Acquire(Map, Map, [Lowers[0], Lowers[1]]);
        clock.Advance(TimeSpan.FromMilliseconds(100)); // Lowers[2] has been idle for 1 s
        Assert.Equal((1, 2), (layers.OpenMappings, layers.OpenLayers));
        clock.Advance(TimeSpan.FromSeconds(5)); // the rest is held: no timer closes it
        Assert.Equal((1, 2), (layers.OpenMappings, layers.OpenLayers));
        again.Dispose();
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal((1, 2), (layers.OpenMappings, layers.OpenLayers));
        clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Single(kernel.UserNamespaces);
        Assert.Equal(3, kernel.IdmappedTrees.Count);
        Assert.Equal((0, 0), (layers.OpenMappings, layers.OpenLayers));
        Assert.True(kernel.UserNamespaces[0].Handle.IsClosed);
        Assert.All(kernel.IdmappedTrees, t => Assert.True(t.Tree.IsClosed));
    }
}
