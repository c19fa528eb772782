import { useEffect, useState, type ReactNode } from "react";
import { Navigate, NavLink, Route, Routes, useNavigate } from "react-router";
import type { User } from "./api/client";
import { useAuth } from "./auth/auth";
import { useAppConfig } from "./lib/config";
import { Book } from "./pages/Book";
import { homeFor } from "./pages/home";
import { MyBookings } from "./pages/MyBookings";
import { Profile } from "./pages/Profile";
import { Sessions } from "./pages/Sessions";
import { SignIn } from "./pages/SignIn";
import { SignUp } from "./pages/SignUp";
import { Therapists } from "./pages/Therapists";
import { Banner, Spinner } from "./ui/Status";

function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    window.addEventListener("online", up);
    window.addEventListener("offline", down);
    return () => {
      window.removeEventListener("online", up);
      window.removeEventListener("offline", down);
    };
  }, []);
  return online;
}

function Header({ user }: { user: User | null }) {
  const { signOut } = useAuth();
  const navigate = useNavigate();
  return (
    <header className="top">
      <a className="brand" href="/">
        Sessions
      </a>
      {user && (
        <nav aria-label="Main">
          {user.role === "therapist" ? (
            <NavLink to="/sessions">Sessions</NavLink>
          ) : (
            <>
              <NavLink to="/therapists">Therapists</NavLink>
              <NavLink to="/bookings">My bookings</NavLink>
            </>
          )}
          <NavLink to="/profile">Profile</NavLink>
          <button
            type="button"
            className="link"
            onClick={() => {
              signOut();
              navigate("/signin");
            }}
          >
            Sign out
          </button>
        </nav>
      )}
    </header>
  );
}

function Private({ user, children }: { user: User | null; children: (user: User) => ReactNode }) {
  return user ? <>{children(user)}</> : <Navigate to="/signin" replace />;
}

export function App() {
  const { user, loading } = useAuth();
  const config = useAppConfig();
  const online = useOnline();
  return (
    <>
      {config?.test_mode && (
        <Banner tone="warn">TEST MODE: payments go to the M-Pesa sandbox; no real money moves.</Banner>
      )}
      {!online && (
        <Banner tone="bad" live>
          You are offline. We will update this page when the connection is back.
        </Banner>
      )}
      <Header user={user} />
      <main>
        {loading ? (
          <Spinner label="Loading…" />
        ) : (
          <Routes>
            <Route path="/" element={user ? <Navigate to={homeFor(user)} replace /> : <SignIn />} />
            <Route path="/signin" element={user ? <Navigate to={homeFor(user)} replace /> : <SignIn />} />
            <Route path="/signup" element={user ? <Navigate to={homeFor(user)} replace /> : <SignUp />} />
            <Route path="/profile" element={<Private user={user}>{(u) => <Profile user={u} />}</Private>} />
            <Route path="/therapists" element={<Private user={user}>{() => <Therapists />}</Private>} />
            <Route path="/therapists/:therapistId/book" element={<Private user={user}>{() => <Book />}</Private>} />
            <Route path="/bookings" element={<Private user={user}>{(u) => <MyBookings user={u} />}</Private>} />
            <Route path="/sessions" element={<Private user={user}>{() => <Sessions />}</Private>} />
            <Route path="*" element={<p>Page not found. <a href="/">Go home</a></p>} />
          </Routes>
        )}
      </main>
    </>
  );
}
