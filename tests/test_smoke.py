def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b'name="username"' in response.data


def test_employee_signs_in_and_sees_home(client, people, login):
    login(client, "employee")
    page = client.get("/").get_data(as_text=True)
    assert "Bürgerbüro" in page
