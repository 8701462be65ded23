using FsCheck;
using FsCheck.Xunit;
using Sandbox.Images.Registry;

namespace Sandbox.Tests.Images.Registry;

/// <summary>Reading <c>WWW-Authenticate</c> challenges.</summary>
public sealed class AuthenticationChallengeTests
{
    [Fact]
    public void Docker_Hubs_challenge_gives_realm_service_and_scope()
    {
        Assert.True(AuthenticationChallenge.TryParse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\"", out var c));
        Assert.True(c.IsBearer);
        Assert.Equal(("https://auth.docker.io/token", "registry.docker.io", "repository:library/busybox:pull"), (c.Realm, c.Service, c.Scope));
    }

    [Theory]
    [InlineData("Basic realm=\"Registry Realm\"", "Basic", "Registry Realm")]
    [InlineData("bearer realm=http://127.0.0.1:1/t , service=x", "bearer", "http://127.0.0.1:1/t")]
    public void Bare_values_spaces_and_other_schemes_are_read(string text, string scheme, string realm)
    {
        Assert.True(AuthenticationChallenge.TryParse(text, out var c));
        Assert.Equal((scheme, realm), (c.Scheme, c.Realm));
    }

    [Theory]
    [InlineData("")]
    [InlineData("realm=\"x\"")]
    [InlineData("Bearer realm=\"unterminated")]
    [InlineData("Bearer =x")]
    public void Text_that_is_not_a_challenge_is_refused(string text) => Assert.False(AuthenticationChallenge.TryParse(text, out _));

    [Property(MaxTest = 300)]
    public bool Quoted_values_come_back_as_written(NonNull<string> realm, NonNull<string> scope)
    {
        static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        return AuthenticationChallenge.TryParse($"Bearer realm={Quote(realm.Get)},scope={Quote(scope.Get)}", out var c)
            && c.Realm == realm.Get && c.Scope == scope.Get;
    }
}
