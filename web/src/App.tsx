import type { ReactNode } from "react";
import { Navigate, NavLink, Route, Routes, useLocation, useNavigate } from "react-router";
import type { User } from "./api/client";
import { useAuth } from "./auth/auth";
import { useAppConfig } from "./lib/config";
import { useConnected } from "./lib/connection";
import { useNotificationStream } from "./lib/live";
import { Notifications, NotificationsLink } from "./pages/Notifications";
import { Payments } from "./pages/Payments";
import { Book } from "./pages/Book";
import { Checkout } from "./pages/Checkout";
import { OrderDetail, Orders } from "./pages/Orders";
import { Shop } from "./pages/Shop";
import { Wallet } from "./pages/Wallet";
import { homeFor, landingFor } from "./pages/home";
import { MyBookings } from "./pages/MyBookings";
import { Profile } from "./pages/Profile";
import { Sessions } from "./pages/Sessions";
import { SignIn } from "./pages/SignIn";
import { SignUp } from "./pages/SignUp";
import { TherapistSettings } from "./pages/TherapistSettings";
import { Therapists } from "./pages/Therapists";
import { Banner, Spinner } from "./ui/Status";

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
              <NavLink to="/shop">Shop</NavLink>
              <NavLink to="/orders">Orders</NavLink>
              <NavLink to="/wallet">Wallet</NavLink>
              <NavLink to="/payments">Payments</NavLink>
            </>
          )}
          <NotificationsLink />
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
  const location = useLocation();
  if (user) return <>{children(user)}</>;
  return <Navigate to="/signin" replace state={{ from: location.pathname + location.search }} />;
}

export function App() {
  const { user, loading } = useAuth();
  const config = useAppConfig();
  const online = useConnected();
  useNotificationStream(user?.id);
  const location = useLocation();
  const landing = user ? landingFor(user, location.state) : "/";
  return (
    <>
      {config?.test_mode && (
        <Banner tone="warn">TEST MODE: payments go to the M-Pesa sandbox; no real money moves.</Banner>
      )}
      {!online && (
        <Banner tone="bad" live>
          Connection lost. We keep trying and will update this page when it is back.
        </Banner>
      )}
      <Header user={user} />
      <main>
        {loading ? (
          <Spinner label="Loading…" />
        ) : (
          <Routes>
            <Route path="/" element={user ? <Navigate to={homeFor(user)} replace /> : <SignIn />} />
            <Route path="/signin" element={user ? <Navigate to={landing} replace /> : <SignIn />} />
            <Route path="/signup" element={user ? <Navigate to={landing} replace /> : <SignUp />} />
            <Route
              path="/profile"
              element={
                <Private user={user}>
                  {(u) => (
                    <>
                      <Profile user={u} />
                      {u.role === "therapist" && <TherapistSettings user={u} />}
                    </>
                  )}
                </Private>
              }
            />
            <Route path="/therapists" element={<Private user={user}>{() => <Therapists />}</Private>} />
            <Route path="/therapists/:therapistId/book" element={<Private user={user}>{() => <Book />}</Private>} />
            <Route path="/bookings" element={<Private user={user}>{() => <MyBookings />}</Private>} />
            <Route path="/bookings/:bookingId/pay" element={<Private user={user}>{() => <MyBookings />}</Private>} />
            <Route path="/shop" element={<Private user={user}>{() => <Shop />}</Private>} />
            <Route path="/checkout" element={<Private user={user}>{(u) => <Checkout user={u} />}</Private>} />
            <Route path="/orders" element={<Private user={user}>{() => <Orders />}</Private>} />
            <Route path="/orders/:orderId" element={<Private user={user}>{() => <OrderDetail />}</Private>} />
            <Route path="/wallet" element={<Private user={user}>{(u) => <Wallet user={u} />}</Private>} />
            <Route path="/payments" element={<Private user={user}>{() => <Payments />}</Private>} />
            <Route path="/notifications" element={<Private user={user}>{() => <Notifications />}</Private>} />
            <Route path="/sessions" element={<Private user={user}>{() => <Sessions />}</Private>} />
            <Route path="*" element={<p>Page not found. <a href="/">Go home</a></p>} />
          </Routes>
        )}
      </main>
    </>
  );
}
