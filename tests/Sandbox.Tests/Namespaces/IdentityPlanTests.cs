using Sandbox.Namespaces;

namespace Sandbox.Tests.Namespaces;

/// <summary>Who the payload is inside and outside the sandbox, and the id maps that make it so.</summary>
public sealed class IdentityPlanTests
{
    private static readonly SandboxSpec Spec = SandboxSpec.Command("/bin/true");

    [Fact]
    public void A_rootless_host_maps_the_sandbox_user_to_its_own_ids()
    {
        var plan = IdentityPlan.For(Spec, hostEuid: 1234, hostEgid: 4321);

        Assert.Equal("1000 1234 1\n", plan.UidMap);
        Assert.Equal("1000 4321 1\n", plan.GidMap);
        Assert.Equal((1000u, 1000u), (plan.InsideUid, plan.InsideGid));
        Assert.Equal((1234u, 4321u), (plan.OutsideUid, plan.OutsideGid));
        Assert.True(plan.Rootless);
    }

    [Fact]
    public void A_rootless_host_denies_setgroups_and_cannot_clear_groups()
    {
        var plan = IdentityPlan.For(Spec, hostEuid: 1000, hostEgid: 1000);

        Assert.True(plan.DenySetgroups);
        Assert.False(plan.ClearGroups);
    }

    [Fact]
    public void A_rootless_host_ignores_the_host_identity_it_could_not_map()
    {
        var plan = IdentityPlan.For(Spec.WithHostIdentity(2000, 3000), hostEuid: 1234, hostEgid: 4321);

        Assert.Equal("1000 1234 1\n", plan.UidMap);
    }

    [Fact]
    public void A_root_host_maps_the_sandbox_user_to_nobody_by_default_and_clears_groups()
    {
        var plan = IdentityPlan.For(Spec, hostEuid: 0, hostEgid: 0);

        Assert.Equal("1000 65534 1\n", plan.UidMap);
        Assert.Equal("1000 65534 1\n", plan.GidMap);
        Assert.Equal((65534u, 65534u), (plan.OutsideUid, plan.OutsideGid));
        Assert.False(plan.Rootless);
        Assert.False(plan.DenySetgroups);
        Assert.True(plan.ClearGroups);
    }

    [Fact]
    public void A_root_host_maps_the_sandbox_user_to_the_host_identity_it_is_given()
    {
        var plan = IdentityPlan.For(Spec.WithUser(7, 8).WithHostIdentity(2000, 3000), hostEuid: 0, hostEgid: 0);

        Assert.Equal("7 2000 1\n", plan.UidMap);
        Assert.Equal("8 3000 1\n", plan.GidMap);
        Assert.Equal((7u, 8u), (plan.InsideUid, plan.InsideGid));
    }

    [Fact]
    public void Without_a_user_namespace_a_root_host_runs_the_payload_as_the_host_identity_without_maps()
    {
        var plan = IdentityPlan.For(Spec.WithoutNamespaces(SandboxNamespaces.User).WithHostIdentity(2000, 3000), hostEuid: 0, hostEgid: 0);

        Assert.Equal((2000u, 3000u), (plan.InsideUid, plan.InsideGid));
        Assert.Equal((2000u, 3000u), (plan.OutsideUid, plan.OutsideGid));
        Assert.Null(plan.UidMap);
        Assert.Null(plan.GidMap);
        Assert.False(plan.DenySetgroups);
        Assert.True(plan.ClearGroups);
    }

    [Fact]
    public void Without_a_user_namespace_a_root_host_never_runs_the_payload_as_root()
    {
        var plan = IdentityPlan.For(Spec.WithoutNamespaces(SandboxNamespaces.User), hostEuid: 0, hostEgid: 0);

        Assert.NotEqual(0u, plan.InsideUid);
        Assert.NotEqual(0u, plan.InsideGid);
    }

    private static SandboxImage RootImage(bool carriesUserXattr = true) =>
        new("test/i:1", ["/store/layers/a/diff"], global::Sandbox.Images.Oci.ContainerConfig.Empty, UserXattr: false) { CarriesUserXattr = carriesUserXattr };

    [Fact]
    public void A_root_host_maps_a_block_of_ids_for_root_s_image_in_a_user_namespace_so_its_owners_stay_what_they_are()
    {
        var spec = Spec.WithImage(RootImage());

        var byDefault = IdentityPlan.For(spec, hostEuid: 0, hostEgid: 0);
        var given = IdentityPlan.For(spec.WithUser(0, 0), hostEuid: 0, hostEgid: 0, new HostIdRange(100000, 300000, 65536));

        Assert.True(IdentityPlan.IdmapsImageLayers(spec, 0));
        Assert.Equal(("0 524288 65536\n", "0 524288 65536\n"), (byDefault.UidMap, byDefault.GidMap));
        Assert.Equal((1000u, 1000u, 525288u, 525288u), (byDefault.InsideUid, byDefault.InsideGid, byDefault.OutsideUid, byDefault.OutsideGid));
        Assert.Equal(("0 100000 65536\n", "0 300000 65536\n"), (given.UidMap, given.GidMap));
        Assert.Equal((0u, 0u, 100000u, 300000u), (given.InsideUid, given.InsideGid, given.OutsideUid, given.OutsideGid));
        Assert.True(given.ClearGroups);
        Assert.False(given.DenySetgroups || given.Rootless);
    }

    [Fact]
    public void Only_root_s_image_with_user_xattrs_in_a_user_namespace_on_a_root_host_is_idmapped()
    {
        var rootless = new SandboxImage("test/i:1", ["/l"], global::Sandbox.Images.Oci.ContainerConfig.Empty, UserXattr: true) { CarriesUserXattr = true };

        Assert.False(IdentityPlan.IdmapsImageLayers(Spec.WithImage(RootImage()), 1000));
        Assert.False(IdentityPlan.IdmapsImageLayers(Spec.WithImage(RootImage()).WithoutNamespaces(SandboxNamespaces.User), 0));
        Assert.False(IdentityPlan.IdmapsImageLayers(Spec.WithImage(RootImage(carriesUserXattr: false)), 0));
        Assert.False(IdentityPlan.IdmapsImageLayers(Spec.WithImage(rootless), 0));
        Assert.False(IdentityPlan.IdmapsImageLayers(Spec, 0));
        Assert.Equal("1000 65534 1\n", IdentityPlan.For(Spec.WithImage(rootless), 0, 0, new HostIdRange(1, 1, 65536)).UidMap);
    }
}
